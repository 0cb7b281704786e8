import { BadRequestException, HttpException, Logger, NotFoundException, type ArgumentsHost } from '@nestjs/common';
import { QueryFailedError } from 'typeorm';
import { describe, expect, it, vi } from 'vitest';
import { AllExceptionsFilter } from './all-exceptions.filter.js';
import { ApiError } from './api-error.js';
import { DATABASE_RETRY_AFTER_SECONDS, databaseUnavailableReason } from './database-unavailable.js';
import { databaseUnavailableError, toErrorBody } from './error-response.js';

describe('toErrorBody', () => {
  it('passes an ApiError through as written', () => {
    expect(toErrorBody(ApiError.conflict('taken'))).toEqual({ statusCode: 409, error: 'conflict', message: 'taken' });
  });

  it("reduces Nest's own 4xx to the status's code and a fixed message", () => {
    expect(toErrorBody(new NotFoundException('Cannot GET /secret/path'))).toEqual({
      statusCode: 404,
      error: 'not_found',
      message: 'Not found',
    });
    expect(toErrorBody(new BadRequestException('library detail'))).toEqual({
      statusCode: 400,
      error: 'invalid_request',
      message: 'Bad request',
    });
  });

  it("names Fastify's body errors without quoting them", () => {
    const cause = Object.assign(new Error("Body is not valid JSON but content-type is set to 'application/json'"), {
      code: 'FST_ERR_CTP_INVALID_JSON_BODY',
    });
    expect(toErrorBody(new HttpException('x', 400, { cause })).message).toBe('Request body is not valid JSON');
  });

  it('turns anything unexpected into a bare 500 with no detail', () => {
    const sqlError = new QueryFailedError('SELECT password_hash FROM users', [], new Error('relation does not exist'));
    expect(toErrorBody(sqlError)).toEqual({ statusCode: 500, error: 'server_error', message: 'Internal server error' });
    expect(toErrorBody('a string')).toEqual({ statusCode: 500, error: 'server_error', message: 'Internal server error' });
    expect(toErrorBody(new HttpException('upstream said something', 502)).message).toBe('Internal server error');
  });
});

describe('database outages', () => {
  const unavailable = { statusCode: 503, error: 'service_unavailable', message: 'The database is unavailable; retry later' };
  const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });
  const queryFailed = (driverError: Error) => new QueryFailedError('SELECT 1', [], driverError);

  it.each([
    ['a refused connection', withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED')],
    ['a reset connection', withCode('read ECONNRESET', 'ECONNRESET')],
    ['an administrator shutdown (57P01)', queryFailed(withCode('terminating connection due to administrator command', '57P01'))],
    ['a server starting up (57P03)', withCode('the database system is starting up', '57P03')],
    ['a connection exception (class 08)', queryFailed(withCode('connection failure', '08006'))],
    ['too many connections (53300)', withCode('sorry, too many clients already', '53300')],
    ['a statement timeout (57014)', queryFailed(withCode('canceling statement due to statement timeout', '57014'))],
    ['a connection terminated', new Error('Connection terminated unexpectedly')],
    ['a connect timeout', new Error('Connection terminated due to connection timeout')],
    ['no pool slot in time', new Error('timeout exceeded when trying to connect')],
    ['a client-side query timeout', queryFailed(new Error('Query read timeout'))],
    ['a cause chain', new Error('wrapped', { cause: withCode('connect ECONNREFUSED ::1:5432', 'ECONNREFUSED') })],
    ['a transaction whose connection died (TypeORM)', new Error('Query runner already released. Cannot run queries anymore.')],
    ['a pool being closed (TypeORM)', new Error('Driver not Connected')],
  ])('%s is a 503 service_unavailable', (_name, error) => {
    expect(toErrorBody(error)).toEqual(unavailable);
    expect(databaseUnavailableError(error)?.headers).toEqual({ 'retry-after': String(DATABASE_RETRY_AFTER_SECONDS) });
  });

  it.each([
    ['a unique violation', queryFailed(withCode('duplicate key value violates unique constraint', '23505'))],
    ['a missing relation', queryFailed(withCode('relation "x" does not exist', '42P01'))],
    ['a serialization failure', queryFailed(withCode('could not serialize access', '40001'))],
    ['a plain bug', new TypeError("Cannot read properties of undefined (reading 'id')")],
  ])('%s stays a bare 500', (_name, error) => {
    expect(toErrorBody(error)).toEqual({ statusCode: 500, error: 'server_error', message: 'Internal server error' });
    expect(databaseUnavailableReason(error)).toBeUndefined();
  });

  it('the filter answers 503 with Retry-After and logs one warning without a stack', () => {
    const sent: { status?: number; headers: Record<string, string>; body?: unknown } = { headers: {} };
    const reply = {
      headers(headers: Record<string, string>) {
        Object.assign(sent.headers, headers);
        return reply;
      },
      status(status: number) {
        sent.status = status;
        return reply;
      },
      send(body: unknown) {
        sent.body = body;
        return reply;
      },
    };
    const request = { id: 'req-1', method: 'POST', routeOptions: { url: '/auth/login' } };
    const host = { switchToHttp: () => ({ getRequest: () => request, getResponse: () => reply }) } as unknown as ArgumentsHost;
    const warn = vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const error = vi.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    try {
      new AllExceptionsFilter().catch(withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'), host);

      expect(sent).toEqual({ status: 503, headers: { 'retry-after': '2' }, body: unavailable });
      expect(error).not.toHaveBeenCalled();
      expect(warn).toHaveBeenCalledTimes(1);
      expect(warn.mock.calls[0]![0]).toBe('request req-1 POST /auth/login: database unavailable (ECONNREFUSED); answered 503');
    } finally {
      warn.mockRestore();
      error.mockRestore();
    }
  });
});
