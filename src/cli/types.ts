// The JSON the API answers with, as the CLI reads it (mirrors src/views.ts, which the CLI may not import).

export interface UserJson {
  readonly name: string;
  readonly admin: boolean;
  readonly createdAt: string | null;
}

export interface KeyJson {
  readonly name: string;
  readonly type: string;
  readonly fingerprint: string;
  readonly createdAt: string | null;
  readonly lastUsedAt: string | null;
}

export interface TokenJson {
  readonly id: number;
  readonly name: string;
  readonly createdAt: string | null;
  readonly expiresAt: string | null;
  readonly revokedAt: string | null;
}

export interface CreatedTokenJson extends TokenJson {
  readonly token: string;
}

export interface AppJson {
  readonly name: string;
  readonly deployBranch: string;
  readonly languagePack: string | null;
  readonly public: boolean;
  readonly createdAt: string | null;
}

/** `GET /v1/apps/:app` adds who owns it, the caller's role, its URL and the live release. */
export interface AppInfoJson extends AppJson {
  readonly owner: string | null;
  readonly role: string | null;
  readonly url: string;
  readonly release: string | null;
}

export interface CollaboratorJson {
  readonly user: string;
  readonly role: string;
}

export type BuildStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'canceled' | 'abandoned';

export interface BuildJson {
  readonly id: number;
  readonly app: string;
  readonly number: number;
  readonly status: BuildStatus;
  readonly ref: string;
  readonly commit: string;
  readonly languagePack: string | null;
  readonly duId: string | null;
  readonly duImage: string | null;
  readonly exitCode: number | null;
  readonly error: string | null;
  readonly createdAt: string | null;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
}

export interface ReleaseJson {
  readonly version: number;
  readonly status: 'pending' | 'active' | 'failed' | 'superseded';
  readonly description: string;
  readonly duId: string;
  readonly duImage: string;
  readonly buildId: number | null;
  readonly configKeys: readonly string[];
  readonly processTypes: Readonly<Record<string, string>>;
  readonly error: string | null;
  readonly createdBy: string | null;
  readonly createdAt: string | null;
  readonly finishedAt: string | null;
}

export type ConfigJson = Readonly<Record<string, string>>;

export interface ConfigChangeJson {
  readonly config: ConfigJson;
  readonly release: ReleaseJson | null;
}

export type FormationJson = Readonly<Record<string, number>>;

export interface ProcessJson {
  readonly name: string;
  readonly type: string;
  readonly release: number;
  readonly port: number | null;
  readonly state: 'up' | 'down' | 'retiring';
}
