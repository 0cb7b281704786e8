import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class HealthDto {
  @ApiProperty({ enum: ['ok'] }) status!: 'ok';
  @ApiPropertyOptional({ enum: ['degraded'], description: 'The revocation listener reconnects; revocations arrive by the 1 s resync meanwhile' })
  listener?: 'degraded';
}
