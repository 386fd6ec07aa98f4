// The Docker adapter: the only module that imports dockerode.
import { PassThrough, Readable, Writable } from 'node:stream';
import Docker from 'dockerode';
import { createBuildCgroup } from './build-cgroup.js';
import type { PathStat } from './bounded-read.js';
import type { AppContainerSpec, BuilderContainer, BuilderSpec, ContainerEngine, NetworkEngine } from './container-engine.js';

export function createDockerEngine(options: { dockerHost?: string | undefined }): ContainerEngine & NetworkEngine {
  const docker = connect(options.dockerHost);

  /** A path's tar as it streams (for reads that stop early); undefined when there is no such path. */
  const archiveStreamOf = async (container: Docker.Container, path: string): Promise<Readable | undefined> => {
    try {
      const s = await container.getArchive({ path });
      return s instanceof Readable ? s : Readable.from(s);
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return undefined;
      throw err;
    }
  };
  /** Docker's X-Docker-Container-Path-Stat header of a HEAD on the archive: no tar is made. */
  const statOf = async (container: Docker.Container, path: string): Promise<PathStat | undefined> => {
    let res: { headers?: Record<string, string | string[] | undefined>; resume?: () => void };
    try {
      res = (await container.infoArchive({ path })) as typeof res;
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return undefined;
      throw err;
    }
    res.resume?.();
    const header = res.headers?.['x-docker-container-path-stat'];
    if (typeof header !== 'string') return undefined;
    const s = JSON.parse(Buffer.from(header, 'base64').toString('utf8')) as Record<string, unknown>;
    const num = (v: unknown): number => (typeof v === 'number' ? v : 0);
    const str = (v: unknown): string => (typeof v === 'string' ? v : '');
    return { size: num(s.size), mode: num(s.mode), mtime: str(s.mtime), linkTarget: str(s.linkTarget) };
  };
  const readArchiveOf = async (container: Docker.Container, path: string): Promise<Buffer | undefined> => {
    let stream: NodeJS.ReadableStream;
    try {
      stream = await container.getArchive({ path });
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return undefined;
      throw err;
    }
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c));
    return Buffer.concat(chunks);
  };
  const wrap = (container: Docker.Container, tty = false): BuilderContainer => ({
    id: container.id,
    async putArchive(tar: Readable, dir: string) {
      await container.putArchive(tar, { path: dir });
    },
    async run(onOutput, stdin) {
      // Attach and wait before start, so no output and no exit can be missed.
      const stream = await container.attach({ stream: true, stdout: true, stderr: true, ...(stdin ? { stdin: true, hijack: true } : {}) });
      const sink = new Writable({
        write(chunk: Buffer, _enc, cb) {
          onOutput(chunk);
          cb();
        },
      });
      const drained = new Promise<void>((resolve) => {
        stream.on('end', resolve);
        stream.on('close', resolve);
        stream.on('error', () => { resolve(); });
      });
      // A terminal's output is one raw stream; otherwise stdout and stderr come multiplexed.
      if (tty) stream.pipe(sink);
      else docker.modem.demuxStream(stream, sink, sink);
      if (stdin) {
        // The end of the input half-closes the connection, which closes the container's stdin
        // (StdinOnce). A terminal's end of input is a byte in it (^D), and Docker drops a tty's
        // output when its attach is half-closed: the input of a tty is never ended.
        stdin.on('error', () => { if (!tty) stream.end(); });
        stdin.pipe(stream, { end: !tty });
      }
      const waited = container.wait({ condition: 'next-exit' }) as Promise<{ StatusCode: number }>;
      await container.start();
      const { StatusCode } = await waited;
      await Promise.race([drained, new Promise((r) => setTimeout(r, 2000))]);
      const state = await container.inspect();
      return { exitCode: StatusCode, oomKilled: state.State.OOMKilled };
    },
    async stop() {
      try {
        await container.stop({ t: 2 });
      } catch (err) {
        const status = (err as { statusCode?: number }).statusCode;
        if (status !== 304 && status !== 404) throw err;
      }
    },
    async readArchive(path) {
      return readArchiveOf(container, path);
    },
    async resize(cols, rows) {
      try {
        await container.resize({ w: cols, h: rows });
      } catch (err) {
        // Not running (yet, or any more): the next size change will do.
        const status = (err as { statusCode?: number }).statusCode;
        if (status !== 404 && status !== 409 && status !== 500) throw err;
      }
    },
    readArchiveStream: (path) => archiveStreamOf(container, path),
    statPath: (path) => statOf(container, path),
    async commit(opts) {
      // Docker takes each Dockerfile instruction as its own `changes` query parameter.
      const res = (await container.commit({ repo: opts.repo, tag: opts.tag, changes: [...opts.changes] } as Record<string, unknown>)) as { Id: string };
      return res.Id;
    },
    async remove() {
      try {
        await container.remove({ force: true, v: true });
      } catch (err) {
        // 404: already gone; 409: a removal is already under way.
        const status = (err as { statusCode?: number }).statusCode;
        if (status !== 404 && status !== 409) throw err;
      }
    },
  });

  const statusOf = (err: unknown): number | undefined => (err as { statusCode?: number }).statusCode;

  return {
    async imageLabels(ref) {
      try {
        const info = await docker.getImage(ref).inspect();
        return info.Config.Labels;
      } catch (err) {
        if (statusOf(err) === 404) return undefined;
        throw err;
      }
    },
    async runApp(spec: AppContainerSpec) {
      const container = await docker.createContainer({
        name: spec.name,
        Image: spec.image,
        ...(spec.cmd ? { Cmd: [...spec.cmd] } : {}),
        Env: [...spec.env],
        Labels: { ...spec.labels },
        Tty: false,
        ...(spec.network !== 'host' ? { NetworkingConfig: { EndpointsConfig: { [spec.network]: { Aliases: [...(spec.aliases ?? [])] } } } } : {}),
        HostConfig: {
          NetworkMode: spec.network,
          Memory: spec.memoryBytes,
          ...(spec.nanoCpus > 0 ? { NanoCpus: spec.nanoCpus } : {}),
          PidsLimit: spec.pids,
          CapDrop: ['ALL'],
          SecurityOpt: ['no-new-privileges'],
          ...(spec.volumes && spec.volumes.length > 0 ? { Binds: spec.volumes.map(([name, inside]) => `${name}:${inside}:rw`) } : {}),
          RestartPolicy: { Name: 'unless-stopped', MaximumRetryCount: 0 },
          LogConfig: { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } },
        },
      });
      await container.start();
      return container.id;
    },
    async stopAndRemove(id, graceSeconds) {
      const c = docker.getContainer(id);
      try {
        await c.stop({ t: graceSeconds });
      } catch (err) {
        // 304: already stopped; 404: already gone.
        if (statusOf(err) !== 304 && statusOf(err) !== 404) throw err;
      }
      await wrap(c).remove();
    },
    async startContainer(id) {
      try {
        await docker.getContainer(id).start();
      } catch (err) {
        if (statusOf(err) !== 304) throw err;
      }
    },
    async inspectContainer(id) {
      try {
        const info = await docker.getContainer(id).inspect();
        const addresses = Object.fromEntries(Object.entries(info.NetworkSettings.Networks).filter(([, n]) => n.IPAddress !== '').map(([name, n]) => [name, n.IPAddress]));
        return { id: info.Id, running: info.State.Running && !info.State.Restarting, exitCode: info.State.ExitCode, restartCount: info.RestartCount, labels: info.Config.Labels, addresses };
      } catch (err) {
        if (statusOf(err) === 404) return undefined;
        throw err;
      }
    },
    async logs(id, options) {
      const c = docker.getContainer(id);
      const out = new PassThrough();
      const raw = options.follow
        ? await c.logs({ follow: true, stdout: true, stderr: true, tail: options.tail })
        : await c.logs({ follow: false, stdout: true, stderr: true, tail: options.tail });
      if (Buffer.isBuffer(raw)) {
        // Non-follow logs arrive as one multiplexed buffer.
        const src = new PassThrough();
        docker.modem.demuxStream(src, out, out);
        src.on('end', () => out.end());
        src.end(raw);
      } else {
        docker.modem.demuxStream(raw, out, out);
        raw.on('end', () => out.end());
        // dockerode types the follow stream loosely; it is a socket-backed stream with destroy().
        out.on('close', () => { (raw as unknown as { destroy(): void }).destroy(); });
      }
      return out;
    },
    async imageId(ref) {
      try {
        const info = await docker.getImage(ref).inspect();
        return info.Id;
      } catch (err) {
        if ((err as { statusCode?: number }).statusCode === 404) return undefined;
        throw err;
      }
    },
    async createBuilder(spec: BuilderSpec) {
      const interactive = spec.interactive !== undefined;
      const container = await docker.createContainer({
        Image: spec.image,
        Cmd: [...spec.cmd],
        Entrypoint: [],
        WorkingDir: spec.workingDir,
        Labels: { ...spec.labels },
        ...(spec.env ? { Env: [...spec.env] } : {}),
        AttachStdout: true,
        AttachStderr: true,
        AttachStdin: interactive,
        Tty: spec.interactive?.tty ?? false,
        OpenStdin: interactive,
        StdinOnce: interactive,
        HostConfig: {
          NetworkMode: spec.network,
          Memory: spec.memoryBytes,
          MemorySwap: spec.memoryBytes,
          NanoCpus: spec.nanoCpus,
          PidsLimit: spec.pids,
          CapDrop: ['ALL'],
          // What package managers running as root need to unpack files; nothing network- or kernel-facing.
          CapAdd: [...(spec.capAdd ?? ['CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'SETUID', 'SETGID'])],
          SecurityOpt: ['no-new-privileges'],
          Binds: [...spec.readOnlyMounts.map(([host, inside]) => `${host}:${inside}:ro`), ...spec.volumes.map(([name, inside]) => `${name}:${inside}:rw`)],
          AutoRemove: false,
          Privileged: false,
          // Kept scheduled jobs' output is read back like app logs: rotated like theirs.
          LogConfig: { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } },
        },
      });
      return wrap(container, spec.interactive?.tty ?? false);
    },
    async readImagePath(image, path) {
      const c = await docker.createContainer({ Image: image, Cmd: ['/nonexistent'], Entrypoint: [], Labels: { 'io.solum.role': 'reader' }, HostConfig: { NetworkMode: 'none' } });
      try {
        return await readArchiveOf(c, path);
      } finally {
        await c.remove({ force: true, v: true }).catch(() => undefined);
      }
    },
    async openImageReader(image) {
      // Like readImagePath: a container that is never started, removed by close().
      const c = await docker.createContainer({ Image: image, Cmd: ['/nonexistent'], Entrypoint: [], Labels: { 'io.solum.role': 'reader' }, HostConfig: { NetworkMode: 'none' } });
      return {
        readArchiveStream: (path) => archiveStreamOf(c, path),
        statPath: (path) => statOf(c, path),
        close: () => c.remove({ force: true, v: true }).then(() => undefined, () => undefined),
      };
    },
    async listContainers(labels) {
      const filters = { label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) };
      const list = await docker.listContainers({ all: true, filters: JSON.stringify(filters) });
      return list.map((c) => ({ id: c.Id, created: c.Created, labels: c.Labels })).sort((a, b) => b.created - a.created);
    },
    async buildImage(context, o) {
      // The RUN steps' processes are counted in a cgroup of the build's own (the build API has no pids limit).
      const cgroup = o.pids === undefined ? undefined : await createBuildCgroup(o.pids);
      const stream = await docker.buildImage(context, {
        t: o.tag,
        labels: JSON.stringify(o.labels),
        networkmode: o.network,
        buildargs: JSON.stringify(o.buildArgs),
        memory: o.memoryBytes,
        memswap: o.memoryBytes,
        ...(o.nanoCpus !== undefined ? { cpuperiod: 100_000, cpuquota: Math.max(1000, Math.round((o.nanoCpus / 1e9) * 100_000)) } : {}),
        ...(cgroup ? { cgroupparent: cgroup.parent } : {}),
        rm: true,
        forcerm: true,
        pull: false,
      } as unknown as Docker.ImageBuildOptions).catch(async (err: unknown) => {
        await cgroup?.remove();
        throw err;
      });
      const abort = (): void => { (stream as unknown as { destroy(): void }).destroy(); };
      o.signal.addEventListener('abort', abort, { once: true });
      try {
        return await new Promise<string>((resolve, reject) => {
          let imageId: string | undefined;
          let failure: string | undefined;
          docker.modem.followProgress(
            stream,
            (err) => {
              if (err) reject(err instanceof Error ? err : new Error(String(err)));
              else if (failure) reject(new Error(failure));
              else if (imageId) resolve(imageId);
              else reject(new Error('docker build produced no image'));
            },
            (event: { stream?: string; error?: string; aux?: { ID?: string } }) => {
              if (event.stream) o.onOutput(event.stream);
              if (event.error) failure = event.error.trim();
              if (event.aux?.ID) imageId = event.aux.ID;
            },
          );
        });
      } finally {
        o.signal.removeEventListener('abort', abort);
        await cgroup?.remove();
      }
    },
    async ensureVolume(name, labels) {
      try {
        await docker.getVolume(name).inspect();
      } catch (err) {
        if (statusOf(err) !== 404) throw err;
        await docker.createVolume({ Name: name, Labels: { ...labels } });
      }
    },
    async removeVolumes(labels) {
      const filters = { label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) };
      const { Volumes } = await docker.listVolumes({ filters: JSON.stringify(filters) });
      for (const v of Volumes) {
        try {
          await docker.getVolume(v.Name).remove();
        } catch (err) {
          if (statusOf(err) !== 404) throw err;
        }
      }
      return Volumes.length;
    },
    async listImages(labels) {
      const filters = { label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) };
      const images = await docker.listImages({ filters: JSON.stringify(filters) });
      return images.map((i) => ({ id: i.Id, labels: i.Labels }));
    },
    async removeImage(id) {
      try {
        await docker.getImage(id).remove({ force: true });
      } catch (err) {
        if (statusOf(err) !== 404) throw err;
      }
    },
    async listVolumes(labels) {
      const filters = { label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) };
      const { Volumes } = await docker.listVolumes({ filters: JSON.stringify(filters) });
      return Volumes.map((v) => ({ name: v.Name, labels: v.Labels }));
    },
    async removeImages(labels) {
      const filters = { label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) };
      const images = await docker.listImages({ filters: JSON.stringify(filters) });
      for (const img of images) {
        try {
          await docker.getImage(img.Id).remove({ force: true });
        } catch (err) {
          if ((err as { statusCode?: number }).statusCode !== 404) throw err;
        }
      }
      return images.length;
    },
    async removeContainer(id) {
      await wrap(docker.getContainer(id)).remove();
    },
    async ping() {
      await docker.ping();
    },
    async createNetwork(spec) {
      try {
        await docker.createNetwork({
          Name: spec.name,
          Driver: 'bridge',
          // Internal: Docker adds no NAT and no published ports; Solum's firewall does the rest.
          Internal: true,
          EnableIPv6: false,
          CheckDuplicate: true,
          Attachable: false,
          IPAM: { Driver: 'default', Config: [{ Subnet: spec.subnet, Gateway: spec.gateway }] },
          Options: { 'com.docker.network.bridge.name': spec.bridge, 'com.docker.network.bridge.enable_ip_masquerade': 'false' },
          Labels: { ...spec.labels },
        });
      } catch (err) {
        const message = (err as Error).message;
        if (/overlap|already exists/i.test(message)) throw Object.assign(new Error(message), { overlap: true });
        throw err;
      }
    },
    async removeNetwork(name) {
      const n = docker.getNetwork(name);
      let info: { Containers?: Record<string, unknown> };
      try {
        info = (await n.inspect()) as { Containers?: Record<string, unknown> };
      } catch (err) {
        if (statusOf(err) === 404) return;
        throw err;
      }
      for (const id of Object.keys(info.Containers ?? {})) {
        try {
          await n.disconnect({ Container: id, Force: true });
        } catch (err) {
          if (statusOf(err) !== 404 && statusOf(err) !== 500) throw err;
        }
      }
      try {
        await n.remove();
      } catch (err) {
        if (statusOf(err) !== 404) throw err;
      }
    },
    async listNetworks(labels) {
      const entries = Object.entries(labels);
      const list = await docker.listNetworks(entries.length > 0 ? { filters: JSON.stringify({ label: entries.map(([k, v]) => `${k}=${v}`) }) } : {});
      const out = [];
      for (const n of list) {
        // The list leaves out attached containers: inspect each of ours (few), not everyone's.
        const attached = entries.length > 0 ? await docker.getNetwork(n.Id).inspect().then((i) => i.Containers, () => undefined) : n.Containers;
        out.push({
          name: n.Name,
          subnets: (n.IPAM?.Config ?? []).map((c) => c.Subnet ?? '').filter((s) => /^\d+\.\d+\.\d+\.\d+\/\d+$/.test(s)),
          bridge: n.Options?.['com.docker.network.bridge.name'] ?? (n.Driver === 'bridge' ? `br-${n.Id.slice(0, 12)}` : ''),
          labels: n.Labels ?? {},
          containers: Object.keys(attached ?? {}),
          created: Math.floor(new Date(n.Created).getTime() / 1000),
        });
      }
      return out;
    },
    async connectNetwork(name, containerId, aliases) {
      try {
        await docker.getNetwork(name).connect({ Container: containerId, EndpointConfig: { Aliases: [...aliases] } });
      } catch (err) {
        if (!/already exists|already attached/i.test((err as Error).message)) throw err;
      }
    },
    async disconnectNetwork(name, containerId) {
      try {
        await docker.getNetwork(name).disconnect({ Container: containerId, Force: true });
      } catch (err) {
        if (statusOf(err) !== 404 && !/is not connected/i.test((err as Error).message)) throw err;
      }
    },
    async exec(id, options) {
      const exec = await docker.getContainer(id).exec({
        Cmd: [...options.cmd],
        Env: [...(options.env ?? [])],
        AttachStdout: true,
        AttachStderr: true,
        AttachStdin: options.stdin !== undefined,
        Tty: false,
      });
      const stream = (await exec.start({ hijack: true, stdin: options.stdin !== undefined })) as unknown as NodeJS.ReadWriteStream & { destroy(): void };
      const stdout = new PassThrough();
      let stderr = '';
      const stderrSink = new Writable({
        write(chunk: Buffer, _enc, cb) {
          if (stderr.length < 65_536) stderr += chunk.toString('utf8');
          cb();
        },
      });
      docker.modem.demuxStream(stream, stdout, stderrSink);
      const input = options.stdin;
      if (input) {
        // The end of the input half-closes the connection, which closes the command's stdin.
        input.on('error', () => { stream.destroy(); });
        input.pipe(stream);
      }
      // Destroying stdout (a client that went away) ends the command's connection too.
      stdout.on('close', () => { stream.destroy(); });
      const done = new Promise<{ exitCode: number; stderr: string }>((resolve, reject) => {
        let settled = false;
        const finish = (): void => {
          if (settled) return;
          settled = true;
          stdout.end();
          exec.inspect().then(
            (info) => { resolve({ exitCode: info.ExitCode ?? -1, stderr }); },
            (err: unknown) => { reject(err instanceof Error ? err : new Error(String(err))); },
          );
        };
        stream.on('end', finish);
        stream.on('close', finish);
        stream.on('error', finish);
      });
      return { stdout, done };
    },
  };
}

function connect(host: string | undefined): Docker {
  if (!host) return new Docker({ socketPath: '/var/run/docker.sock' });
  if (host.startsWith('unix://')) return new Docker({ socketPath: host.slice('unix://'.length) });
  const url = new URL(host.replace(/^tcp:/, 'http:'));
  return new Docker({ host: url.hostname, port: Number(url.port || 2375), protocol: url.protocol === 'https:' ? 'https' : 'http' });
}
