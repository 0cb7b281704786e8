import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { loadConfig } from '../../src/config/app-config.js';

type Manifest = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec: Record<string, any>;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
};
type Kustomization = { namespace?: string; resources: string[] };

const KUBERNETES_DIR = 'deploy/kubernetes';
const yamlFiles = (readdirSync(KUBERNETES_DIR, { recursive: true, encoding: 'utf8' }) as string[])
  .filter((file) => file.endsWith('.yaml'))
  .map((file) => join(KUBERNETES_DIR, file));
const kustomizationFiles = yamlFiles.filter((file) => basename(file) === 'kustomization.yaml');
/** Every Kubernetes object, with the namespace its kustomization gives it. */
const manifests: Array<Manifest & { file: string }> = yamlFiles
  .filter((file) => basename(file) !== 'kustomization.yaml')
  .flatMap((file) => {
    const kustomization = join(dirname(file), 'kustomization.yaml');
    const namespace = existsSync(kustomization) ? (parse(readFileSync(kustomization, 'utf8')) as Kustomization).namespace : undefined;
    return parseAllDocuments(readFileSync(file, 'utf8')).map((document) => {
      const manifest = document.toJS() as Manifest;
      if (namespace !== undefined && manifest.kind !== 'Namespace') manifest.metadata.namespace = namespace;
      return { ...manifest, file };
    });
  });
const base = manifests.filter((manifest) => manifest.file.startsWith(join(KUBERNETES_DIR, 'base')));
const find = (kind: string, name: string) => manifests.find((manifest) => manifest.kind === kind && manifest.metadata.name === name)!;

/** The variables the README's configuration table documents. */
const documentedVariables = new Set(
  [...readFileSync('README.md', 'utf8').matchAll(/^\| `([A-Z_]+)`(?:, `([A-Z_]+)`)? \|/gm)].flatMap((match) => match.slice(1).filter(Boolean)),
);
const defaults = loadConfig({});

describe('Kubernetes manifests', () => {
  const deployment = find('Deployment', 'auth-service');
  const container = deployment.spec.template.spec.containers[0];
  const envNames: string[] = container.env.map((variable: { name: string }) => variable.name);

  it('validate against the Kubernetes schemas, every one of them', async () => {
    for (const { file, ...manifest } of manifests) {
      const group = (await import(`kubernetes-models/${manifest.apiVersion}`)) as Record<string, new (data: object) => { validate(): void }>;
      const Model = group[manifest.kind];
      expect(Model, `${file}: ${manifest.apiVersion} ${manifest.kind}`).toBeDefined();
      expect(() => new Model!(manifest).validate(), file).not.toThrow();
    }
  });

  it('are each listed by their kustomization, which lists nothing else', () => {
    for (const kustomization of kustomizationFiles) {
      const listed = (parse(readFileSync(kustomization, 'utf8')) as Kustomization).resources.map((resource) =>
        join(dirname(kustomization), resource),
      );
      const present = yamlFiles.filter((file) => dirname(file) === dirname(kustomization) && file !== kustomization);
      expect(listed.sort()).toEqual(present.sort());
    }
  });

  it('make a base that applies on its own: a namespace, an identity without an API token, a NetworkPolicy, and no example or placeholder', () => {
    expect(base.map((manifest) => manifest.kind).sort()).toEqual(
      ['Deployment', 'Namespace', 'NetworkPolicy', 'PodDisruptionBudget', 'Service', 'ServiceAccount'].sort(),
    );
    expect(new Set(base.filter((manifest) => manifest.kind !== 'Namespace').map((manifest) => manifest.metadata.namespace))).toEqual(
      new Set([find('Namespace', 'auth').metadata.name]),
    );
    expect(find('ServiceAccount', 'auth-service')).toMatchObject({ automountServiceAccountToken: false });
    expect(deployment.spec.template.spec).toMatchObject({ serviceAccountName: 'auth-service', automountServiceAccountToken: false });
    for (const manifest of base) expect(JSON.stringify(manifest)).not.toMatch(/CHANGE_ME|example\/orders/);
  });

  it('spread the replicas over nodes', () => {
    expect(deployment.spec.template.spec.topologySpreadConstraints).toContainEqual(
      expect.objectContaining({ topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'DoNotSchedule', maxSkew: 1 }),
    );
  });

  it('let the API be reached from the ingress and client namespaces and the metrics port only from monitoring', () => {
    const policy = find('NetworkPolicy', 'auth-service');
    expect(policy.spec.podSelector.matchLabels).toEqual(deployment.spec.template.metadata.labels);
    const portsFrom = (port: string) =>
      policy.spec.ingress
        .filter((rule: { ports: Array<{ port: string }> }) => rule.ports.some((entry) => entry.port === port))
        .flatMap((rule: { from: unknown[] }) => rule.from);
    expect(portsFrom('metrics')).toEqual([{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }]);
    expect(portsFrom('http')).toContainEqual({ namespaceSelector: { matchLabels: { 'auth-service-client': 'true' } } });
  });

  it('run two or more replicas with resource requests, non-root, on a read-only root filesystem', () => {
    expect(deployment.spec.replicas).toBeGreaterThanOrEqual(2);
    expect(container.resources.requests).toEqual({ cpu: expect.any(String), memory: expect.any(String) });
    expect(deployment.spec.template.spec.securityContext.runAsNonRoot).toBe(true);
    expect(container.securityContext.readOnlyRootFilesystem).toBe(true);
    expect(container.securityContext.allowPrivilegeEscalation).toBe(false);
  });

  it("probe the app's health routes on the port it listens on", () => {
    const port = container.ports.find((entry: { name: string }) => entry.name === 'http');
    const portEnv = container.env.find((variable: { name: string }) => variable.name === 'PORT');
    expect(port.containerPort).toBe(Number(portEnv?.value ?? defaults.port));
    expect(container.livenessProbe.httpGet).toEqual({ path: '/health/live', port: 'http' });
    expect(container.readinessProbe.httpGet).toEqual({ path: '/health/ready', port: 'http' });
    expect(container.startupProbe.httpGet).toEqual({ path: '/health/ready', port: 'http' });
  });

  it('let Prometheus scrape the metrics port, which the Service does not expose', () => {
    const metrics = container.ports.find((entry: { name: string }) => entry.name === 'metrics');
    const annotations = deployment.spec.template.metadata.annotations;
    expect(metrics.containerPort).toBe(defaults.metricsPort);
    expect(annotations['prometheus.io/port']).toBe(String(defaults.metricsPort));
    expect(annotations['prometheus.io/path']).toBe('/metrics');
    expect(find('Service', 'auth-service').spec.ports.map((entry: { targetPort: string }) => entry.targetPort)).not.toContain('metrics');
  });

  it('believe X-Forwarded-For only from a narrow proxy range, never a whole pod network', () => {
    const trusted = String(container.env.find((variable: { name: string }) => variable.name === 'TRUST_PROXY').value).split(',');
    for (const entry of trusted) {
      const [address, prefix] = entry.trim().split('/');
      expect(Number(prefix ?? (address!.includes(':') ? 128 : 32))).toBeGreaterThanOrEqual(address!.includes(':') ? 120 : 24);
    }
  });

  it('route the Service and the disruption budget to the Deployment', () => {
    const service = find('Service', 'auth-service');
    const labels = deployment.spec.template.metadata.labels;
    expect(service.spec.selector).toEqual(labels);
    expect(service.spec.ports[0].targetPort).toBe('http');
    expect(find('PodDisruptionBudget', 'auth-service').spec.selector.matchLabels).toEqual(labels);
  });

  it('take DATABASE_URL, DATABASE_DIRECT_URL, KEYS_KEK and SMTP_URL from the Secret template, and only documented variables', () => {
    const secret = find('Secret', 'auth-service');
    for (const name of ['DATABASE_URL', 'DATABASE_DIRECT_URL', 'KEYS_KEK', 'SMTP_URL']) {
      const variable = container.env.find((entry: { name: string }) => entry.name === name);
      expect(variable.valueFrom.secretKeyRef).toEqual({ name: 'auth-service', key: name });
      expect(secret.stringData).toHaveProperty(name);
    }
    for (const name of envNames) expect(documentedVariables).toContain(name);
  });

  it('configure the example sidecar to cache the JWKS for less than KEY_PUBLISH_AHEAD, for our issuer and audience', () => {
    const envoy = parse(find('ConfigMap', 'orders-envoy').data!['envoy.yaml']!);
    const jwtFilter = envoy.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters.find(
      (filter: { name: string }) => filter.name === 'envoy.filters.http.jwt_authn',
    );
    const provider = jwtFilter.typed_config.providers.auth_service;
    const env = (name: string) => container.env.find((entry: { name: string }) => entry.name === name)?.value;
    const publishAhead = Number(env('KEY_PUBLISH_AHEAD') ?? defaults.keys.publishAheadSeconds);

    expect(parseInt(provider.remote_jwks.cache_duration, 10)).toBeLessThan(publishAhead);
    expect(provider.issuer).toBe(env('JWT_ISSUER'));
    expect(provider.audiences).toEqual([env('JWT_AUDIENCE')]);
    expect(new URL(provider.remote_jwks.http_uri.uri).pathname).toBe('/.well-known/jwks.json');
    expect(new URL(provider.remote_jwks.http_uri.uri).hostname).toBe(`auth-service.${deployment.metadata.namespace}.svc.cluster.local`);
  });

  it('run the example sidecar on a pinned Envoy release with resources and a locked-down context, and the app only behind it', () => {
    const pod = find('Deployment', 'orders').spec.template.spec;
    const envoy = pod.containers.find((entry: { name: string }) => entry.name === 'envoy');
    const app = pod.containers.find((entry: { name: string }) => entry.name === 'orders');
    expect(envoy.image).toMatch(/^envoyproxy\/envoy:v1\.(39|40)\.\d+$/);
    expect(envoy.resources.limits.memory).toBeDefined();
    expect(envoy.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    expect(app.ports).toBeUndefined();
    expect(app.env).toContainEqual({ name: 'HOST', value: '127.0.0.1' });
    expect(find('NetworkPolicy', 'orders').spec.ingress).toEqual([{ ports: [{ port: 'http' }] }]);
  });
});

describe('docker-compose.yml', () => {
  const compose = parse(readFileSync('docker-compose.yml', 'utf8'));

  it('runs the service next to postgres:16 with a healthcheck the service waits for', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['auth', 'mailpit', 'postgres']);
    expect(compose.services.postgres.image).toBe('postgres:16');
    expect(compose.services.postgres.healthcheck.test.join(' ')).toContain('pg_isready');
    expect(compose.services.auth.depends_on.postgres.condition).toBe('service_healthy');
    expect(compose.services.auth.ports).toContain(`${defaults.port}:${defaults.port}`);
  });

  it('sets only variables the README documents, including what production requires', () => {
    const names = Object.keys(compose.services.auth.environment);
    for (const name of names) expect(documentedVariables).toContain(name);
    expect(names).toEqual(expect.arrayContaining(['NODE_ENV', 'DATABASE_URL', 'JWT_ISSUER', 'KEYS_KEK', 'SMTP_URL']));
  });

  it('sends the mails to a mail catcher on a pinned tag, whose web UI is published on localhost only', () => {
    const mailpit = compose.services.mailpit;
    expect(mailpit.image).toMatch(/^axllent\/mailpit:v\d+\.\d+\.\d+$/);
    const smtp = new URL(compose.services.auth.environment.SMTP_URL);
    expect([smtp.protocol, smtp.hostname, smtp.port]).toEqual(['smtp:', 'mailpit', '1025']);
    expect(() => loadConfig({ SMTP_URL: compose.services.auth.environment.SMTP_URL })).not.toThrow();
    expect(mailpit.ports).toEqual(['127.0.0.1:8025:8025']);
    expect(compose.services.auth.depends_on).toHaveProperty('mailpit');
  });
});

describe('Dockerfile', () => {
  const dockerfile = readFileSync('Dockerfile', 'utf8');

  it('builds, installs production dependencies and runs them in separate stages, on a pinned Node 24 LTS, as a non-root user', () => {
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:24\.\d+\.\d+-bookworm-slim$/m);
    expect(dockerfile.match(/^FROM \$\{NODE_IMAGE\}/gm)).toHaveLength(3);
    expect(dockerfile).toMatch(/RUN npm run prune:production/);
    expect(dockerfile.match(/npm ci(?! --ignore-scripts)/g) ?? []).toEqual([]);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK /m);
    expect(dockerfile).toMatch(/CMD \["node", "dist\/src\/main.js"\]/);
  });
});
