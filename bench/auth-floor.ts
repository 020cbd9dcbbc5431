import Fastify from 'fastify';
import { errors, jwtVerify } from 'jose';
import { MongoClient, ObjectId } from 'mongodb';

import { derivedKey } from '../server/src/infra/derived-keys.js';

/**
 * The floor `pnpm bench auth` measures auth.me against: what a careful hand-written endpoint needs for the
 * same answer, and nothing else. Plain Fastify without logging or plugins, the official driver and jose:
 * the access token is verified on every request with the checks the server makes (HS256 only, `at+jwt`,
 * issuer, audience, claim types, `iat` not in the future), then the account is read by `_id` and checked
 * (active, session version, session not logged out) before its owner's view is answered.
 *
 * Run as its own process: MONGODB_URI (the server's database), JWT_SECRET (the server's) and PORT.
 */
const ISSUER = 'gen3d';
const AUDIENCE = 'gen3d-api';
const TOKEN_TYPE = 'at+jwt';
const ISSUED_AT_SKEW_SECONDS = 60;

interface StoredAccount {
  _id: ObjectId;
  email: string;
  userName: string;
  roles: string[];
  emailVerified: boolean;
  active: boolean;
  sessionVersion?: number;
  endedSessions?: Array<{ sessionId: string; until: Date }>;
  profile?: { avatarUrl?: string | null; bio?: string };
  settings?: { theme?: string; language?: string; notifications?: boolean };
  createdAt: Date;
}

const { MONGODB_URI, JWT_SECRET, PORT } = process.env;
if (!MONGODB_URI || !JWT_SECRET || !PORT) throw new Error('MONGODB_URI, JWT_SECRET and PORT are required');

const key = await crypto.subtle.importKey(
  'raw',
  new Uint8Array(derivedKey(JWT_SECRET, 'access-tokens')),
  { name: 'HMAC', hash: 'SHA-256' },
  false,
  ['verify'],
);
const client = await MongoClient.connect(MONGODB_URI);
const users = client.db().collection<StoredAccount>('users');

interface Claims {
  userId: string;
  sessionId: string;
  sessionVersion: number;
}

async function claimsOf(authorization: string | undefined): Promise<Claims | undefined> {
  const token = /^Bearer ([\w-]+\.[\w-]+\.[\w-]*)$/.exec(authorization ?? '')?.[1];
  if (!token) return undefined;
  try {
    const { payload } = await jwtVerify(token, key, {
      algorithms: ['HS256'],
      issuer: ISSUER,
      audience: AUDIENCE,
      typ: TOKEN_TYPE,
    });
    const { sub, roles, sid, sv, exp, iat } = payload;
    if (
      typeof sub !== 'string' ||
      !/^[0-9a-f]{24}$/.test(sub) ||
      typeof iat !== 'number' ||
      iat > Date.now() / 1000 + ISSUED_AT_SKEW_SECONDS ||
      !Array.isArray(roles) ||
      typeof sid !== 'string' ||
      typeof sv !== 'number' ||
      !Number.isSafeInteger(sv) ||
      typeof exp !== 'number'
    )
      return undefined;
    return { userId: sub, sessionId: sid, sessionVersion: sv };
  } catch (error) {
    if (error instanceof errors.JOSEError) return undefined;
    throw error;
  }
}

function sessionAlive(account: StoredAccount, claims: Claims): boolean {
  if ((account.sessionVersion ?? 0) !== claims.sessionVersion) return false;
  const now = Date.now();
  return !(account.endedSessions ?? []).some(
    (ended) => ended.sessionId === claims.sessionId && ended.until.getTime() > now,
  );
}

const app = Fastify({ logger: false });
app.get('/api/auth/me', async (request, reply) => {
  const claims = await claimsOf(request.headers.authorization);
  const account = claims
    ? await users.findOne({ _id: new ObjectId(claims.userId) }, { projection: { passwordHash: 0 } })
    : null;
  if (!claims || !account || !account.active || !sessionAlive(account, claims))
    return reply.code(401).send({ code: 'UNAUTHORIZED', message: 'The access token is invalid or expired' });
  const id = account._id.toHexString();
  return {
    _id: id,
    id,
    email: account.email,
    userName: account.userName,
    roles: account.roles,
    emailVerified: account.emailVerified,
    active: account.active,
    profile: { avatarUrl: account.profile?.avatarUrl ?? null, bio: account.profile?.bio ?? '' },
    settings: {
      theme: account.settings?.theme ?? 'system',
      language: account.settings?.language ?? 'en',
      notifications: account.settings?.notifications ?? true,
    },
    createdAt: account.createdAt.toISOString(),
  };
});
app.addHook('onClose', async () => client.close());
for (const signal of ['SIGTERM', 'SIGINT'] as const)
  process.once(signal, () => {
    void app.close().then(() => process.exit(0));
  });

const address = await app.listen({ port: Number(PORT), host: '127.0.0.1' });
console.log(`floor listening at ${address}`);
