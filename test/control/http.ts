// HTTP over the control socket for tests: a whole answer, or a stream of NDJSON lines.
import http from 'node:http';

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json: any;
}

export function request(
  socketPath: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
    const req = http.request(
      { socketPath, method, path, headers: { ...(payload === undefined ? {} : { 'content-type': 'application/json' }), ...headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            /* not JSON */
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** Opens an NDJSON feed; `next(pred)` resolves with the first line (parsed) that matches. */
export function follow(
  socketPath: string,
  path: string,
): Promise<{ next: (pred: (line: any) => boolean) => Promise<any>; close: () => void; lines: any[]; response: http.IncomingMessage }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, method: 'GET', path }, (res) => {
      const lines: any[] = [];
      const waiters: { pred: (line: any) => boolean; resolve: (line: any) => void }[] = [];
      let buffered = '';
      res.setEncoding('utf8');
      res.on('data', (text: string) => {
        buffered += text;
        let nl: number;
        while ((nl = buffered.indexOf('\n')) !== -1) {
          const line = JSON.parse(buffered.slice(0, nl));
          buffered = buffered.slice(nl + 1);
          lines.push(line);
          for (const w of [...waiters])
            if (w.pred(line)) {
              waiters.splice(waiters.indexOf(w), 1);
              w.resolve(line);
            }
        }
      });
      res.on('error', () => undefined);
      resolve({
        response: res,
        lines,
        next: (pred) => {
          const seen = lines.find(pred);
          return seen ? Promise.resolve(seen) : new Promise((r) => waiters.push({ pred, resolve: r }));
        },
        close: () => req.destroy(),
      });
    });
    req.on('error', reject);
    req.end();
  });
}
