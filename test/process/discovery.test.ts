import { execFileSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { servePlugin } from '../../src/sdk/index.js';
import { nextState, onCleanup, supervisor, tempDir } from '../helpers.js';

async function serve(options: { socket?: string; port?: number }, greeting: string) {
  const server = await servePlugin({
    ...options,
    implements: ['Greeter'],
    handlers: { 'Greeter.Hello': ({ name }) => ({ greeting: `${greeting} ${name}` }) },
  });
  onCleanup(() => server.close());
  return server;
}

describe('discovery of plugins run by someone else', () => {
  it('finds .sock, .spec and .json plugins, activates them and registers their capabilities', async () => {
    const dir = await tempDir('plugd-disc-');
    const socketsDir = path.join(dir, 'run');
    const specsDir = path.join(dir, 'etc');
    await mkdir(socketsDir);
    await mkdir(specsDir);
    await serve({ socket: path.join(socketsDir, 'alpha.sock') }, 'hi from alpha');
    const betaSocket = path.join(dir, 'elsewhere.sock');
    await serve({ socket: betaSocket }, 'hi from beta');
    await writeFile(path.join(specsDir, 'beta.spec'), `unix://${betaSocket}\n`);
    const gamma = await serve({ port: 0 }, 'hi from gamma');
    await writeFile(path.join(specsDir, 'gamma.json'), JSON.stringify({ Name: 'gamma', Addr: `tcp://127.0.0.1:${gamma.address}` }));
    await writeFile(path.join(specsDir, 'broken.json'), '{ "Name": ');
    await writeFile(
      path.join(specsDir, 'secure.json'),
      JSON.stringify({ Name: 'secure', Addr: 'unix:///x.sock', TLSConfig: { InsecureSkipVerify: true } }),
    );

    const sup = await supervisor();
    const { activated, problems } = await sup.discover({ socketsDir, specsDirs: [specsDir] });
    expect(activated).toEqual(['alpha', 'beta', 'gamma']);
    expect(problems.map((p) => [path.basename(p.file), p.error.code])).toEqual([
      ['broken.json', 'PLUGD_E_MANIFEST'],
      ['secure.json', 'PLUGD_E_MANIFEST'],
    ]);
    expect(
      sup
        .find('Greeter')
        .map((c) => c.name)
        .sort(),
    ).toEqual(['alpha', 'beta', 'gamma']);
    for (const name of activated) {
      expect(sup.inspect(name)).toMatchObject({ kind: 'external', state: 'running', implements: ['Greeter'] });
      await expect((await sup.get(name, 'Greeter')).call('Greeter.Hello', { name: 'Ada' })).resolves.toEqual({
        greeting: `hi from ${name} Ada`,
      });
    }
    // Discovering again finds nothing new.
    expect((await sup.discover({ socketsDir, specsDirs: [specsDir] })).activated).toEqual([]);
  });

  it('watches their health but never restarts them: plugd does not own their process', async () => {
    const socketsDir = await tempDir('plugd-disc-');
    const server = await serve({ socket: path.join(socketsDir, 'alpha.sock') }, 'hi');
    const sup = await supervisor({ watchdogMs: 200 });
    await sup.discover({ socketsDir });
    const disabled = nextState(sup, 'alpha', 'disabled');
    await server.close();
    await disabled;
    expect(sup.inspect('alpha')).toMatchObject({ state: 'disabled', restarts: 0, lastError: { code: 'PLUGD_E_PLUGIN_HUNG' } });
  });
});

describe('discovery over TLS (.json with TLSConfig)', () => {
  /** A self-signed key pair in `dir`: `<name>.key.pem`, `<name>.cert.pem`. */
  function selfSigned(dir: string, name: string, subject: string, extension: string) {
    const key = path.join(dir, `${name}.key.pem`);
    const cert = path.join(dir, `${name}.cert.pem`);
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', subject, '-addext', extension],
      { stdio: 'ignore' },
    );
    return { key, cert };
  }

  /**
   * A plugin answering Docker's protocol over HTTPS with a self-signed certificate for 127.0.0.1;
   * with `clientCa`, it also asks for a client certificate signed by that CA, as Docker's
   * TLSConfig CertFile/KeyFile serve.
   */
  async function tlsPlugin(dir: string, clientCa?: string) {
    const { key, cert } = selfSigned(dir, 'server', '/CN=127.0.0.1', 'subjectAltName=IP:127.0.0.1');
    const mutual = clientCa ? { requestCert: true, rejectUnauthorized: true, ca: await readFile(clientCa) } : {};
    const server = https.createServer({ key: await readFile(key), cert: await readFile(cert), ...mutual }, (req, res) => {
      const answer = req.url === '/Plugin.Activate' ? { Implements: ['Greeter'] } : { greeting: 'hi over TLS' };
      res.writeHead(200, { 'Content-Type': 'application/vnd.docker.plugins.v1+json' });
      res.end(JSON.stringify(answer));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    onCleanup(
      () =>
        new Promise((resolve) => {
          server.closeAllConnections();
          server.close(resolve);
        }),
    );
    return { cert, port: (server.address() as AddressInfo).port };
  }

  it('trusts the CA it is given, refuses an unknown certificate, and honours InsecureSkipVerify', async () => {
    const dir = await tempDir('plugd-tls-');
    const { cert, port } = await tlsPlugin(dir);
    const specsDir = path.join(dir, 'specs');
    await mkdir(specsDir);
    const addr = `https://127.0.0.1:${port}`;
    await writeFile(path.join(specsDir, 'trusted.json'), JSON.stringify({ Name: 'trusted', Addr: addr, TLSConfig: { CAFile: cert } }));
    await writeFile(path.join(specsDir, 'unknown.json'), JSON.stringify({ Name: 'unknown', Addr: addr, TLSConfig: {} }));
    await writeFile(
      path.join(specsDir, 'skipping.json'),
      JSON.stringify({ Name: 'skipping', Addr: addr, TLSConfig: { InsecureSkipVerify: true } }),
    );
    // A certificate that does not verify fails the handshake at once: retried until the deadline,
    // it would end as PLUGD_E_ACTIVATION_TIMEOUT instead of PLUGD_E_ACTIVATION.
    const sup = await supervisor({ activationTimeoutMs: 5_000 });
    const { activated, problems } = await sup.discover({ specsDirs: [specsDir] });
    expect(activated.sort()).toEqual(['skipping', 'trusted']);
    expect(problems.map((p) => [path.basename(p.file), p.error.code])).toEqual([['unknown.json', 'PLUGD_E_ACTIVATION']]);
    expect(problems[0]!.error.message).toContain('certificate');
    await expect((await sup.get('trusted', 'Greeter')).call('Greeter.Hello', {})).resolves.toEqual({ greeting: 'hi over TLS' });
  });

  it('presents the client certificate of CertFile and KeyFile to a plugin that requires one', async () => {
    const dir = await tempDir('plugd-mtls-');
    const client = selfSigned(dir, 'client', '/CN=plugd-host', 'extendedKeyUsage=clientAuth');
    const { cert, port } = await tlsPlugin(dir, client.cert);
    const specsDir = path.join(dir, 'specs');
    await mkdir(specsDir);
    const addr = `https://127.0.0.1:${port}`;
    await writeFile(
      path.join(specsDir, 'mutual.json'),
      JSON.stringify({ Name: 'mutual', Addr: addr, TLSConfig: { CAFile: cert, CertFile: client.cert, KeyFile: client.key } }),
    );
    await writeFile(path.join(specsDir, 'anonymous.json'), JSON.stringify({ Name: 'anonymous', Addr: addr, TLSConfig: { CAFile: cert } }));
    const sup = await supervisor({ activationTimeoutMs: 5_000 });
    const { activated, problems } = await sup.discover({ specsDirs: [specsDir] });
    expect(activated).toEqual(['mutual']);
    expect(problems.map((p) => [path.basename(p.file), p.error.code])).toEqual([['anonymous.json', 'PLUGD_E_ACTIVATION']]);
    expect(problems[0]!.error.message).toContain('certificate required');
    await expect((await sup.get('mutual', 'Greeter')).call('Greeter.Hello', {})).resolves.toEqual({ greeting: 'hi over TLS' });
  });
});
