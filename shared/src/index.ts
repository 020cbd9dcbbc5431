export * from './errors.js';
export * from './system.js';
export * from './http-status.js';
export * from './auth.js';
export * from './users.js';
export * from './admin.js';
