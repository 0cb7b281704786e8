import { ApiProperty } from '@nestjs/swagger';
import type { Type } from '@nestjs/common';

/** Every error answer: `{statusCode, error, message}` with a stable `error` code. */
export class ErrorBodyDto {
  @ApiProperty({ example: 400 })
  statusCode!: number;

  @ApiProperty({ example: 'invalid_request', description: 'Stable, machine-readable code (see the README)' })
  error!: string;

  @ApiProperty({ example: 'email must be an email' })
  message!: string;
}

/**
 * The OpenAPI class of a page of `items`: `{items: [item], next_cursor}`. One class per item type,
 * named after it, so a client generator gets a distinct type for each list.
 */
export function PageOf<T>(item: Type<T>): Type<{ items: T[]; next_cursor: string | null }> {
  class Page {
    @ApiProperty({ type: [item] })
    items!: T[];

    @ApiProperty({ type: String, nullable: true, description: 'Opaque; null on the last page' })
    next_cursor!: string | null;
  }
  Object.defineProperty(Page, 'name', { value: `${item.name.replace(/Dto$|Response$/, '')}Page` });
  return Page;
}

/** `{items: [item]}` for a list without paging. */
export function ListOf<T>(item: Type<T>): Type<{ items: T[] }> {
  class List {
    @ApiProperty({ type: [item] })
    items!: T[];
  }
  Object.defineProperty(List, 'name', { value: `${item.name.replace(/Dto$|Response$/, '')}List` });
  return List;
}
