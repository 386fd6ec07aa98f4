// The Docker adapter: the only module that imports dockerode.
import { Writable, type Readable } from 'node:stream';
import Docker from 'dockerode';
import type { BuilderContainer, BuilderSpec, ContainerEngine } from './container-engine.js';

export function createDockerEngine(options: { dockerHost?: string | undefined }): ContainerEngine {
  const docker = connect(options.dockerHost);

  const wrap = (container: Docker.Container): BuilderContainer => ({
    id: container.id,
    async putArchive(tar: Readable, dir: string) {
      await container.putArchive(tar, { path: dir });
    },
    async run(onOutput) {
      // Attach and wait before start, so no output and no exit can be missed.
      const stream = await container.attach({ stream: true, stdout: true, stderr: true });
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
      docker.modem.demuxStream(stream, sink, sink);
      const waited = container.wait({ condition: 'next-exit' }) as Promise<{ StatusCode: number }>;
      await container.start();
      const { StatusCode } = await waited;
      await Promise.race([drained, new Promise((r) => setTimeout(r, 2000))]);
      return StatusCode;
    },
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

  return {
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
      const container = await docker.createContainer({
        Image: spec.image,
        Cmd: [...spec.cmd],
        Entrypoint: [],
        WorkingDir: spec.workingDir,
        Labels: { ...spec.labels },
        AttachStdout: true,
        AttachStderr: true,
        Tty: false,
        OpenStdin: false,
        HostConfig: {
          NetworkMode: spec.network,
          Memory: spec.memoryBytes,
          MemorySwap: spec.memoryBytes,
          NanoCpus: spec.nanoCpus,
          PidsLimit: spec.pids,
          CapDrop: ['ALL'],
          // What package managers running as root need to unpack files; nothing network- or kernel-facing.
          CapAdd: ['CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'SETUID', 'SETGID'],
          SecurityOpt: ['no-new-privileges'],
          Binds: spec.readOnlyMounts.map(([host, inside]) => `${host}:${inside}:ro`),
          AutoRemove: false,
          Privileged: false,
        },
      });
      return wrap(container);
    },
    async listContainers(labels) {
      const filters = { label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) };
      const list = await docker.listContainers({ all: true, filters: JSON.stringify(filters) });
      return list.map((c) => ({ id: c.Id, labels: c.Labels }));
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
  };
}

function connect(host: string | undefined): Docker {
  if (!host) return new Docker({ socketPath: '/var/run/docker.sock' });
  if (host.startsWith('unix://')) return new Docker({ socketPath: host.slice('unix://'.length) });
  const url = new URL(host.replace(/^tcp:/, 'http:'));
  return new Docker({ host: url.hostname, port: Number(url.port || 2375), protocol: url.protocol === 'https:' ? 'https' : 'http' });
}
