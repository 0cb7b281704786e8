import { ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsBoolean, IsOptional, Matches } from 'class-validator';

export class UpdateUserDto {
  @ApiPropertyOptional({ type: [String], example: ['user', 'admin'] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(16)
  @Matches(/^[a-z][a-z0-9_.-]{0,31}$/, { each: true, message: 'each role must be a lower-case name of up to 32 characters' })
  roles?: string[];

  @ApiPropertyOptional()
  @IsOptional()
  @IsBoolean()
  disabled?: boolean;
}
