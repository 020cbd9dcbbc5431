import { z } from 'zod';

import {
  ZChangePasswordInput,
  ZLoginInput,
  ZLoginResult,
  ZLogoutInput,
  ZMe,
  ZOk,
  ZOkMessage,
  ZRefreshInput,
  ZRefreshResult,
  ZRegisterInput,
  ZRequestPasswordResetInput,
  ZResetPasswordInput,
  ZUpdateMeInput,
  ZVerifyRegistrationInput,
  ZVerifyRegistrationResult,
} from '@gen3d/shared';

import { authedProcedure, publicProcedure, router, withRateLimit } from '../../trpc/trpc.js';
import { RESET_REQUEST_ANSWER } from './password-service.js';

const tags = ['auth'];

export const authRouter = router({
  register: publicProcedure
    .meta({
      openapi: {
        method: 'POST',
        path: '/auth/register',
        tags,
        summary: 'Start a registration: a 6-digit code is emailed',
        protect: false,
      },
    })
    .input(ZRegisterInput)
    .output(ZOkMessage)
    .use(withRateLimit((limits) => limits.register))
    .mutation(({ ctx, input }) => ctx.services.registration.register(input)),

  verifyRegistration: publicProcedure
    .meta({
      openapi: {
        method: 'POST',
        path: '/auth/register/verify',
        tags,
        summary: 'Confirm the emailed code and create the account',
        protect: false,
      },
      successStatus: 201,
    })
    .input(ZVerifyRegistrationInput)
    .output(ZVerifyRegistrationResult)
    .use(withRateLimit((limits) => limits.verify))
    .mutation(({ ctx, input }) =>
      ctx.services.registration.verify(input.email, input.code, { ip: ctx.ip, userAgent: ctx.userAgent }),
    ),

  login: publicProcedure
    .meta({
      openapi: {
        method: 'POST',
        path: '/auth/login',
        tags,
        summary: 'Log in: an access token and a refresh token',
        protect: false,
      },
      errorCodes: ['INVALID_CREDENTIALS', 'ACCOUNT_DISABLED'],
    })
    .input(ZLoginInput)
    .output(ZLoginResult)
    .use(withRateLimit((limits) => limits.login))
    .mutation(({ ctx, input }) =>
      ctx.services.sessions.login(input.email, input.password, { ip: ctx.ip, userAgent: ctx.userAgent }),
    ),

  refresh: publicProcedure
    .meta({
      openapi: {
        method: 'POST',
        path: '/auth/refresh',
        tags,
        summary: 'Trade a refresh token for new tokens (the old one is spent)',
        protect: false,
      },
      errorCodes: ['INVALID_TOKEN'],
    })
    .input(ZRefreshInput)
    .output(ZRefreshResult)
    .use(withRateLimit((limits) => limits.refresh))
    .mutation(({ ctx, input }) =>
      ctx.services.sessions.refresh(input.refreshToken, { ip: ctx.ip, userAgent: ctx.userAgent }),
    ),

  logout: publicProcedure
    .meta({
      openapi: {
        method: 'POST',
        path: '/auth/logout',
        tags,
        summary: 'End the session of a refresh token, its access tokens too',
        protect: false,
      },
    })
    .input(ZLogoutInput)
    .output(ZOk)
    .mutation(async ({ ctx, input }) => {
      await ctx.services.sessions.logout(input.refreshToken);
      return { ok: true as const };
    }),

  logoutEverywhere: authedProcedure
    .meta({
      openapi: {
        method: 'POST',
        path: '/auth/logout-all',
        tags,
        summary: 'End every session of the caller, access tokens included',
        protect: true,
      },
    })
    .input(z.void())
    .output(ZOk)
    .mutation(async ({ ctx }) => {
      await ctx.services.sessions.logoutEverywhere(ctx.user.id);
      return { ok: true as const };
    }),

  me: authedProcedure
    .meta({
      openapi: {
        method: 'GET',
        path: '/auth/me',
        tags,
        summary: 'The caller, without secrets',
        protect: true,
      },
    })
    .input(z.void())
    .output(ZMe)
    .query(({ ctx }) => ctx.user.account),

  updateMe: authedProcedure
    .meta({
      openapi: {
        method: 'PATCH',
        path: '/auth/me',
        tags,
        summary: "Change the caller's name, profile or settings",
        protect: true,
      },
    })
    .input(ZUpdateMeInput)
    .output(ZMe)
    .mutation(({ ctx, input }) => ctx.services.users.profiles.updateMe(ctx.user.id, input)),

  changePassword: authedProcedure
    // Every procedure that judges a password is limited like login.
    .use(withRateLimit((limits) => limits.passwordCheck))
    .meta({
      openapi: {
        method: 'POST',
        path: '/auth/change-password',
        tags,
        summary: 'Change the password (needs the current one); ends every session, this one too',
        protect: true,
      },
    })
    .input(ZChangePasswordInput)
    .output(ZOkMessage)
    .mutation(async ({ ctx, input }) => {
      await ctx.services.passwords.change(ctx.actor, input.currentPassword, input.newPassword);
      return {
        ok: true as const,
        message: 'Password changed; every session has ended, log in again with the new password.',
      };
    }),

  requestPasswordReset: publicProcedure
    .meta({
      openapi: {
        method: 'POST',
        path: '/auth/request-password-reset',
        tags,
        summary: 'Email a password reset link (same answer for unknown addresses)',
        protect: false,
      },
    })
    .input(ZRequestPasswordResetInput)
    .output(ZOkMessage)
    .use(withRateLimit((limits) => limits.passwordReset))
    .mutation(async ({ ctx, input }) => {
      await ctx.services.passwords.requestReset(input.email, { ip: ctx.ip, userAgent: ctx.userAgent });
      return { ok: true as const, message: RESET_REQUEST_ANSWER };
    }),

  resetPassword: publicProcedure
    .meta({
      openapi: {
        method: 'POST',
        path: '/auth/reset-password',
        tags,
        summary: 'Set a new password with an emailed reset token',
        protect: false,
      },
      errorCodes: ['INVALID_TOKEN'],
    })
    .input(ZResetPasswordInput)
    .output(ZOkMessage)
    .use(withRateLimit((limits) => limits.passwordReset))
    .mutation(async ({ ctx, input }) => {
      await ctx.services.passwords.reset(input.token, input.newPassword, {
        ip: ctx.ip,
        userAgent: ctx.userAgent,
      });
      return { ok: true as const, message: 'Password changed; log in with the new password.' };
    }),
});
