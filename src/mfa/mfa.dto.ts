import { ApiProperty } from '@nestjs/swagger';
import { IsString, Length } from 'class-validator';

/** A TOTP code (6 digits) or a recovery code (as shown, dashes optional). */
export class MfaCodeDto {
  @ApiProperty({ example: '123456', description: 'A TOTP code, or one of the recovery codes', minLength: 6, maxLength: 64 })
  @IsString()
  @Length(6, 64)
  code!: string;
}

export class LoginMfaDto extends MfaCodeDto {
  @ApiProperty({ description: 'From the 403 mfa_required answer of POST /auth/login', maxLength: 128 })
  @IsString()
  @Length(1, 128)
  mfa_token!: string;
}

export class TotpEnrollmentResponseDto {
  @ApiProperty({ description: 'Base32, for typing into an authenticator app' }) secret!: string;
  @ApiProperty({ example: 'otpauth://totp/auth.example.com:ann%40example.com?issuer=auth.example.com&secret=...&algorithm=SHA1&digits=6&period=30' })
  otpauth_uri!: string;
}

export class RecoveryCodesResponseDto {
  @ApiProperty({ type: [String], description: 'Ten single-use codes, shown this once' }) recovery_codes!: string[];
}

/** 403 from POST /auth/login for a user with a second factor: no session yet. */
export class MfaRequiredResponseDto {
  @ApiProperty({ example: 403 }) statusCode!: number;
  @ApiProperty({ example: 'mfa_required' }) error!: string;
  @ApiProperty() message!: string;
  @ApiProperty({ description: 'Single-use, for POST /auth/login/mfa' }) mfa_token!: string;
  @ApiProperty({ example: 300, description: 'Seconds the mfa_token works' }) expires_in!: number;
}
