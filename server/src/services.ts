import type { LimitedAction } from './infra/action-limiters.js';
import type { RateLimiter } from './infra/rate-limiter.js';
import type { ModelServerHealthService } from './modules/admin/model-server-health.js';
import type { AdminOverviewService } from './modules/admin/overview-service.js';
import type { AnalyticsService } from './modules/analytics/service.js';
import type { ApiKeyService } from './modules/api-keys/service.js';
import type { ImageUploads } from './modules/assets/image-uploads.js';
import type { AssetRegistration } from './modules/assets/registration.js';
import type { AssetService } from './modules/assets/service.js';
import type { AuditLog } from './modules/audit/audit-log.js';
import type { PasswordService } from './modules/auth/password-service.js';
import type { RegistrationService } from './modules/auth/registration-service.js';
import type { SessionService } from './modules/auth/session-service.js';
import type { ChatService } from './modules/chats/service.js';
import type { GenerationService } from './modules/generation/service.js';
import type { MessageService } from './modules/messages/service.js';
import type { PostprocessingService } from './modules/postprocessing/service.js';
import type { SystemService } from './modules/system/service.js';
import type { UserServices } from './modules/users/user-services.js';
import type { WebhookService } from './modules/webhooks/service.js';

/** Every service the routers call, built once per app in `buildApp`. */
export interface AppServices {
  system: SystemService;
  registration: RegistrationService;
  sessions: SessionService;
  apiKeys: ApiKeyService;
  passwords: PasswordService;
  users: UserServices;
  adminOverview: AdminOverviewService;
  modelServerHealth: ModelServerHealthService;
  analytics: AnalyticsService;
  audit: AuditLog;
  chats: ChatService;
  messages: MessageService;
  assets: AssetService;
  assetRegistration: AssetRegistration;
  imageUploads: ImageUploads;
  generation: GenerationService;
  postprocessing: PostprocessingService;
  webhooks: WebhookService;
  /** One limiter per sensitive action. */
  limits: Record<LimitedAction, RateLimiter>;
}
