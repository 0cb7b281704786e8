import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString } from 'class-validator';

/** Optional only because cookie mode may carry the token instead; a malformed string is a 401. */
export class RefreshTokenDto {
  @ApiPropertyOptional({ description: 'Required unless cookie mode carries it', example: 'q8C3y0mXq6dZ2bqJb0f3XWQkM4r2Vv4g2L0T1rYwQ5s' })
  @IsOptional()
  @IsString()
  refresh_token?: string;
}
