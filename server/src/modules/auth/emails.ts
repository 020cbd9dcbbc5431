import type { MailMessage } from '../../infra/mailer.js';

export function verificationCodeEmail(to: string, code: string): MailMessage {
  return {
    to,
    subject: `Your gen3d verification code: ${code}`,
    text: `Welcome to gen3d!\n\nYour verification code is ${code}\n\nIt is valid for 15 minutes. If you did not try to create an account, ignore this email.\n`,
  };
}

export function registrationAttemptEmail(to: string): MailMessage {
  return {
    to,
    subject: 'Someone tried to register with your gen3d address',
    text: 'Someone tried to create a gen3d account with this email address, which already has an account.\n\nIf it was you, log in instead, or reset your password if you forgot it. Otherwise you can ignore this email.\n',
  };
}

export function passwordResetEmail(to: string, link: string): MailMessage {
  return {
    to,
    subject: 'Reset your gen3d password',
    text: `Someone asked to reset the password of your gen3d account.\n\nTo choose a new password, open this link within one hour:\n${link}\n\nIf it was not you, ignore this email: your password stays as it is.\n`,
  };
}
