/**
 * A minimal path-style S3 endpoint on loopback (PUT/GET/HEAD/DELETE object, ListObjectsV2, bucket `imgs`,
 * SigV4 with access key AKTEST required) for the AWS SDK to talk to: the tests have no S3 of their own.
 */
import http from 'node:http';

export function fakeS3(): { server: http.Server; objects: Map<string, { body: Buffer; headers: Record<string, string> }>; requests: string[] } {
  const objects = new Map<string, { body: Buffer; headers: Record<string, string> }>();
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const u = new URL(req.url!, 'http://x');
      requests.push(`${req.method} ${u.pathname}${u.search}`);
      // Every request is SigV4-signed, in the header or (presigned) in the query.
      const credential = req.headers.authorization ?? `AWS4-HMAC-SHA256 Credential=${u.searchParams.get('X-Amz-Credential')}`;
      if (!/^AWS4-HMAC-SHA256 Credential=AKTEST\//.test(credential)) return void res.writeHead(403).end();
      const [, bucket, ...rest] = u.pathname.split('/');
      const key = decodeURIComponent(rest.join('/'));
      if (bucket !== 'imgs') return void res.writeHead(404).end();
      if (req.method === 'GET' && key === '' && u.searchParams.get('list-type') === '2') {
        const prefix = u.searchParams.get('prefix') ?? '';
        const keys = [...objects.keys()].filter((k) => k.startsWith(prefix));
        res.writeHead(200, { 'content-type': 'application/xml' });
        return void res.end(
          `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>imgs</Name><Prefix>${prefix}</Prefix><KeyCount>${keys.length}</KeyCount><IsTruncated>false</IsTruncated>` +
            keys.map((k) => `<Contents><Key>${k}</Key><Size>${objects.get(k)!.body.length}</Size></Contents>`).join('') +
            '</ListBucketResult>',
        );
      }
      if (req.method === 'PUT') {
        const headers: Record<string, string> = { 'content-type': String(req.headers['content-type']) };
        for (const [h, v] of Object.entries(req.headers)) if (h.startsWith('x-amz-meta-')) headers[h] = String(v);
        objects.set(key, { body: Buffer.concat(chunks), headers });
        return void res.writeHead(200, { etag: '"x"' }).end();
      }
      const obj = objects.get(key);
      if (req.method === 'DELETE') {
        objects.delete(key);
        return void res.writeHead(204).end();
      }
      if (!obj) {
        res.writeHead(404, { 'content-type': 'application/xml' });
        return void res.end(req.method === 'HEAD' ? undefined : '<Error><Code>NoSuchKey</Code><Message>none</Message></Error>');
      }
      res.writeHead(200, { ...obj.headers, 'content-length': String(obj.body.length) });
      res.end(req.method === 'HEAD' ? undefined : obj.body);
    });
  });
  return { server, objects, requests };
}
