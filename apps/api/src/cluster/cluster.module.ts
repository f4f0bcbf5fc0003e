import { Module } from '@nestjs/common';
import { SessionsModule } from '../sessions/sessions.module';
import { ClusterController } from './cluster.controller';
import { ClusterRegistryProvider } from './cluster-registry.provider';
import { ClusterService } from './cluster.service';

@Module({
  imports: [SessionsModule],
  controllers: [ClusterController],
  providers: [ClusterService, ClusterRegistryProvider],
})
export class ClusterModule {}
