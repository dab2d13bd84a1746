// The program both supervisors run in the peers bench: a small HTTP server on the UNIX socket
// $PLUGD_SOCKET that answers Docker's handshake (so plugd can supervise it as a process plugin)
// and tells its pid (so the bench can SIGKILL it and see the replacement answer). PM2 runs this
// same file with PLUGD_SOCKET set in its app's env.
import { unlinkSync } from 'node:fs';
import http from 'node:http';

const socket = process.env.PLUGD_SOCKET;
if (!socket) throw new Error('PLUGD_SOCKET is not set');
try {
  unlinkSync(socket); // left behind by an instance that was killed
} catch {
  // none
}

http
  .createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const body = req.url === '/Plugin.Activate' ? { Implements: ['Bench'] } : req.url === '/Bench.Pid' ? { Pid: process.pid } : null;
      res.writeHead(body ? 200 : 404, { 'content-type': 'application/vnd.docker.plugins.v1+json' });
      res.end(JSON.stringify(body ?? { Err: `unknown method ${req.url}` }));
    });
  })
  .listen(socket);
