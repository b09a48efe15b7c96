// An OpenAI-compatible provider on loopback (POST /v1/chat/completions, non-streaming): reads and
// parses the request as a real server would and answers at once with a fixed completion and usage,
// so what is measured is the caller's overhead, not a model. Listens on 127.0.0.1:$PORT.
import { createServer } from 'node:http';

const port = Number(process.env['PORT']);
createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    if (request.method === 'GET') {
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.end('ok');
      return;
    }
    if (request.method !== 'POST' || !request.url?.endsWith('/chat/completions')) {
      response.writeHead(404, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ error: { message: 'not found' } }));
      return;
    }
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { model?: string };
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(
      JSON.stringify({
        id: 'chatcmpl-bench',
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model: body.model ?? 'bench-model',
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: 'The dialog says the disk is full.' },
            finish_reason: 'stop',
          },
        ],
        usage: { prompt_tokens: 24, completion_tokens: 9, total_tokens: 33 },
      }),
    );
  });
}).listen(port, '127.0.0.1');
