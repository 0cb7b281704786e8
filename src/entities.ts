/** Every entity of the service: the composition root hands them to the one data source (database/ names no feature). */
import { MailToken } from './account/mail-token.entity.js';
import { AuditEvent } from './audit/audit-event.entity.js';
import { RevokedClientToken, ServiceClient, UsedClientAssertion } from './clients/service-client.entity.js';
import { SigningKey } from './keys/signing-key.entity.js';
import { MfaChallenge, MfaRecoveryCode, UserTotp } from './mfa/mfa.entities.js';
import { OutboxMessage } from './mail/outbox-message.entity.js';
import { RefreshToken } from './sessions/refresh-token.entity.js';
import { Session } from './sessions/session.entity.js';
import { LoginGuessBudget, LoginThrottle, RateLimitCounter, TrustedDevice } from './throttle/throttle.entities.js';
import { User } from './users/user.entity.js';

export const entities = [
  User,
  Session,
  RefreshToken,
  SigningKey,
  AuditEvent,
  RateLimitCounter,
  LoginThrottle,
  LoginGuessBudget,
  TrustedDevice,
  ServiceClient,
  UsedClientAssertion,
  RevokedClientToken,
  MailToken,
  OutboxMessage,
  UserTotp,
  MfaRecoveryCode,
  MfaChallenge,
];
