import { CreateUsers1764000000000 } from './1764000000000-CreateUsers.js';
import { CreateSessionsAndSigningKeys1795489542992 } from './1795489542992-CreateSessionsAndSigningKeys.js';
import { RevocationMarksAndAudit1795490372844 } from './1795490372844-RevocationMarksAndAudit.js';
import { Throttling1795491101417 } from './1795491101417-Throttling.js';
import { UnloggedThrottleTables1795493687588 } from './1795493687588-UnloggedThrottleTables.js';
import { TokenGenerationsAndRetention1795600000000 } from './1795600000000-TokenGenerationsAndRetention.js';
import { LoginThrottlePerClient1795700000000 } from './1795700000000-LoginThrottlePerClient.js';
import { CanonicalEmails1795700000001 } from './1795700000001-CanonicalEmails.js';
import { ServiceClients1796020933735 } from './1796020933735-ServiceClients.js';
import { AccountSelfService1796100000000 } from './1796100000000-AccountSelfService.js';
import { SecondFactor1796200000000 } from './1796200000000-SecondFactor.js';

/** Listed explicitly, oldest first: no glob, so the compiled app, the CLI and the tests load the same set. */
export const migrations = [
  CreateUsers1764000000000,
  CreateSessionsAndSigningKeys1795489542992,
  RevocationMarksAndAudit1795490372844,
  Throttling1795491101417,
  UnloggedThrottleTables1795493687588,
  TokenGenerationsAndRetention1795600000000,
  LoginThrottlePerClient1795700000000,
  CanonicalEmails1795700000001,
  ServiceClients1796020933735,
  AccountSelfService1796100000000,
  SecondFactor1796200000000,
];
