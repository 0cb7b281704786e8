/**
 * The rules of the house, checked by `npm run lint` (part of `npm test`):
 *   config, common                       the bottom: they import no feature
 *   metrics, audit, database             infrastructure: only the bottom
 *   users                                accounts and passwords
 *   throttle                             budgets and trusted devices (on users)
 *   clients, keys                        service clients (throttled), signing keys (naming the clients' algorithms)
 *   mail                                 the outbox and its sender (on users)
 *   sessions                             on users and clients
 *   account, mfa                         self-service and recovery (on sessions, throttle, mail); the second factor (on keys, sessions, throttle)
 *   auth, admin, health                  the top: nothing below imports them
 *   app.module, create-app, entities...  the composition root at src/
 * database/ names no feature (the entity list lives in src/entities.ts), no cycles anywhere, and
 * the verifier kit (packages/verifier) stands alone: nothing from src/ or test/.
 */
const FEATURES = '(users|clients|keys|throttle|mail|sessions|account|mfa|auth|admin|health)';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'A cycle makes two modules one; Nest would also need forwardRef for it.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'bottom-imports-no-feature',
      comment: 'config/ and common/ are what every module builds on: they know no module above them.',
      severity: 'error',
      from: { path: '^src/(config|common)/' },
      to: { path: '^src/', pathNot: '^src/(config|common)/' },
    },
    {
      name: 'infrastructure-imports-only-the-bottom',
      comment: 'metrics/, audit/ and database/ serve every feature and import none (database/ gets the entities from src/entities.ts).',
      severity: 'error',
      from: { path: '^src/(metrics|audit|database)/' },
      to: { path: '^src/', pathNot: '^src/(config|common|metrics|audit|database)/|^src/entities\\.ts$' },
    },
    {
      name: 'users-below-sessions',
      comment: 'Users know nothing of sessions, throttling, clients, keys or the HTTP layers above.',
      severity: 'error',
      from: { path: '^src/users/' },
      to: { path: '^src/(sessions|throttle|clients|keys|auth|admin|health)/' },
    },
    {
      name: 'throttle-below-clients',
      comment: 'Throttling is for whoever calls; it knows users (trusted devices) and nothing above.',
      severity: 'error',
      from: { path: '^src/throttle/' },
      to: { path: '^src/(clients|keys|sessions|auth|admin|health)/' },
    },
    {
      name: 'clients-and-keys-below-sessions',
      comment: 'clients/ and keys/ import neither sessions nor the layers above.',
      severity: 'error',
      from: { path: '^src/(clients|keys)/' },
      to: { path: '^src/(sessions|auth|admin|health)/' },
    },
    {
      name: 'mail-below-features',
      comment: 'The outbox delivers what others queue; it knows users (its foreign key) and nothing above.',
      severity: 'error',
      from: { path: '^src/mail/' },
      to: { path: '^src/(throttle|clients|keys|sessions|account|auth|admin|health)/' },
    },
    {
      name: 'account-above-sessions',
      comment: 'Self-service builds on users, sessions, throttling and mail; none of them imports it.',
      severity: 'error',
      from: { path: '^src/(users|throttle|clients|keys|mail|sessions)/' },
      to: { path: '^src/account/' },
    },
    {
      name: 'mfa-above-sessions',
      comment: 'The second factor builds on keys (its KEKs), sessions and throttling; none of them, nor account, imports it.',
      severity: 'error',
      from: { path: '^src/(users|throttle|clients|keys|mail|sessions|account)/' },
      to: { path: '^src/mfa/' },
    },
    {
      name: 'sessions-below-auth-and-admin',
      comment: 'Sessions serve auth/ and admin/; they never import them.',
      severity: 'error',
      from: { path: '^src/sessions/' },
      to: { path: '^src/(auth|admin|health)/' },
    },
    {
      name: 'top-layers-stay-apart',
      comment: 'auth/, admin/ and health/ are entry points: only the composition root imports them.',
      severity: 'error',
      from: { path: `^src/${FEATURES}/`, pathNot: '^src/(auth|admin|health)/' },
      to: { path: '^src/(auth|admin|health)/' },
    },
    {
      name: 'entry-points-do-not-import-each-other',
      comment: 'admin/ and auth/ share through the modules below, not through each other.',
      severity: 'error',
      from: { path: '^src/(admin|health)/' },
      to: { path: '^src/auth/' },
    },
    {
      name: 'verifier-kit-stands-alone',
      comment: 'Another team installs packages/verifier from a tarball: it can carry nothing of the service.',
      severity: 'error',
      from: { path: '^packages/verifier/src/' },
      to: { path: '^(src|test|scripts)/' },
    },
    {
      name: 'no-test-code-in-the-service',
      severity: 'error',
      from: { path: '^(src|scripts)/' },
      to: { path: '^test/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '\\.spec\\.ts$' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
  },
};
