// The baseline server: raw node:http, no framework, no middleware. Listens on 127.0.0.1:$PORT.
import { createServer } from 'node:http';

const port = Number(process.env['PORT']);
createServer((_request, response) => {
  response.writeHead(200, { 'content-type': 'text/plain' });
  response.end('hello world');
}).listen(port, '127.0.0.1');
