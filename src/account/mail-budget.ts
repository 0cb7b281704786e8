/**
 * Mails one account may receive per hour, recovery and verification together: enough for a user
 * who asks again, too few to turn the service into a mail bomb against someone's inbox. Counted
 * from the outbox itself, in the statement that queues the mail.
 */
export const MAILS_PER_ACCOUNT_PER_HOUR = 5;
export const MAIL_BUDGET_WINDOW_MS = 3600_000;
