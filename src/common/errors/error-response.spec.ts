import { BadRequestException, HttpException, NotFoundException } from '@nestjs/common';
import { QueryFailedError } from 'typeorm';
import { describe, expect, it } from 'vitest';
import { ApiError } from './api-error.js';
import { toErrorBody } from './error-response.js';

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
