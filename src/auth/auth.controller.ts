import { Body, Controller, HttpCode, HttpStatus, Post } from '@nestjs/common';
import { toUserResponse, type UserResponseDto } from '../users/user-response.dto.js';
import { UsersService } from '../users/users.service.js';
import { RegisterDto } from './dto/register.dto.js';

@Controller('auth')
export class AuthController {
  constructor(private readonly users: UsersService) {}

  @Post('register')
  @HttpCode(HttpStatus.CREATED)
  async register(@Body() body: RegisterDto): Promise<UserResponseDto> {
    return toUserResponse(await this.users.register(body.email, body.password));
  }
}
