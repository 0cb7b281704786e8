import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { OrdersModule } from './app.module.js';

// AUTH_SERVICE_URL must equal the service's JWT_ISSUER (default http://localhost:3000).
const authServiceUrl = process.env.AUTH_SERVICE_URL ?? 'http://localhost:3000';
// AUTH_CLIENT_ID/AUTH_CLIENT_SECRET: service credentials for the revocation feed (optional).
const { AUTH_CLIENT_ID: clientId, AUTH_CLIENT_SECRET: clientSecret } = process.env;
const feedCredentials = clientId && clientSecret ? { clientId, clientSecret } : undefined;
const app = await NestFactory.create(OrdersModule.forRoot(authServiceUrl, authServiceUrl, feedCredentials), new FastifyAdapter());
await app.listen(Number(process.env.PORT ?? 4000), '127.0.0.1');
console.log(`orders example on http://127.0.0.1:${process.env.PORT ?? 4000}, trusting ${authServiceUrl}`);
