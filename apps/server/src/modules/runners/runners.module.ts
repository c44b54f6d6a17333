import { Module } from '@nestjs/common';
import { RunnersController } from './runners.controller';
import { RunnersRepository } from './runners.repository';
import { RunnersService } from './runners.service';

@Module({
  controllers: [RunnersController],
  providers: [RunnersRepository, RunnersService],
  exports: [RunnersService],
})
export class RunnersModule {}
