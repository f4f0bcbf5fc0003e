import { Module } from '@nestjs/common';
import { ServerTemplatesController } from './server-templates.controller';
import { ServerTemplatesService } from './server-templates.service';

@Module({ controllers: [ServerTemplatesController], providers: [ServerTemplatesService], exports: [ServerTemplatesService] })
export class ServerTemplatesModule {}
