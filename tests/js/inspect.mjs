// Inspect one RFC 5322 message with tools that share no code with Herald or Python's `email`.
//
//   node inspect.mjs [TXT_RECORDS_JSON] < message.eml
//
// Prints one JSON object on stdout:
//   parsed     mailparser's view: subject, from/to/cc/reply_to (address + name), the headers
//              Herald cares about, text, html, attachments (filename, contentType,
//              contentDisposition, cid, size, md5 checksum, related)
//   mime_tree  the MIME structure as mailsplit sees it: {content_type, disposition, filename,
//              encoding, children}
//   dkim       only when DNS TXT records are given: mailauth's result for every DKIM-Signature,
//              top first: {algorithm, domain, selector, result, comment}
//
// TXT records are a JSON map {"<name>": "<value>"} given as the first argument or in the
// HERALD_TXT_RECORDS environment variable. mailauth resolves keys only from that map (no DNS).
//
//   node inspect.mjs --batch < batch.json
//
// Several messages in one process: stdin is a JSON array of {"eml": "<base64>", "txt": {...} or
// null}, stdout a JSON array with one object (as above) per message, in order.

import { Splitter } from 'mailsplit';
import { simpleParser } from 'mailparser';
import { dkimVerify } from 'mailauth/lib/dkim/verify.js';

const HEADERS = [
    'message-id',
    'date',
    'mime-version',
    'list-unsubscribe',
    'list-unsubscribe-post',
    'reply-to',
    'content-type',
];

async function readStdin() {
    const chunks = [];
    for await (const chunk of process.stdin) {
        chunks.push(chunk);
    }
    return Buffer.concat(chunks);
}

function addresses(field) {
    if (!field) {
        return [];
    }
    const groups = Array.isArray(field) ? field : [field];
    return groups.flatMap(group => group.value.map(({ address, name }) => ({ address, name })));
}

async function parse(raw) {
    const mail = await simpleParser(raw, { skipTextToHtml: true, skipTextLinks: true, skipImageLinks: true });
    // Raw header lines (unfolded), as mailparser turns some (e.g. List-*) into structures.
    const headers = {};
    for (const { key, line } of mail.headerLines) {
        if (HEADERS.includes(key) && !(key in headers)) {
            headers[key] = line.slice(line.indexOf(':') + 1).replace(/\r?\n[ \t]+/g, ' ').trim();
        }
    }
    return {
        subject: mail.subject ?? null,
        message_id: mail.messageId ?? null,
        from: addresses(mail.from),
        to: addresses(mail.to),
        cc: addresses(mail.cc),
        reply_to: addresses(mail.replyTo),
        headers,
        text: mail.text ?? null,
        html: mail.html === false ? null : mail.html ?? null,
        attachments: mail.attachments.map(a => ({
            filename: a.filename ?? null,
            contentType: a.contentType,
            contentDisposition: a.contentDisposition,
            cid: a.cid ?? null,
            size: a.size,
            checksum: a.checksum,
            related: Boolean(a.related),
        })),
    };
}

function mimeTree(raw) {
    return new Promise((resolve, reject) => {
        const splitter = new Splitter();
        const nodes = new Map();
        let root = null;
        splitter.on('data', data => {
            if (data.type !== 'node') {
                return;
            }
            const entry = {
                content_type: data.contentType || 'text/plain',
                disposition: data.disposition || null,
                filename: data.filename || null,
                encoding: data.encoding || null,
                children: [],
            };
            nodes.set(data, entry);
            if (data.root) {
                root = entry;
            } else {
                nodes.get(data.parentNode)?.children.push(entry);
            }
        });
        splitter.on('end', () => resolve(root));
        splitter.on('error', reject);
        splitter.end(raw);
    });
}

async function verifyDkim(raw, records) {
    const lookup = new Map(Object.entries(records).map(([name, value]) => [name.toLowerCase().replace(/\.$/, ''), value]));
    const resolver = async (name, type) => {
        const value = type === 'TXT' ? lookup.get(name.toLowerCase().replace(/\.$/, '')) : undefined;
        if (value === undefined) {
            const err = new Error(`no ${type} record for ${name}`);
            err.code = 'ENOTFOUND';
            throw err;
        }
        return [[value]];
    };
    const { results } = await dkimVerify(raw, { resolver });
    return results.map(r => ({
        algorithm: r.status?.header?.a ?? null,
        domain: r.signingDomain ?? null,
        selector: r.selector ?? null,
        result: r.status?.result ?? null,
        comment: r.status?.comment || null,
    }));
}

async function inspect(raw, records) {
    const out = { parsed: await parse(raw), mime_tree: await mimeTree(raw) };
    if (records) {
        out.dkim = await verifyDkim(raw, records);
    }
    return out;
}

async function main() {
    const input = await readStdin();
    let out;
    if (process.argv[2] === '--batch') {
        out = [];
        for (const { eml, txt } of JSON.parse(input.toString('utf-8'))) {
            out.push(await inspect(Buffer.from(eml, 'base64'), txt));
        }
    } else {
        const recordsJson = process.argv[2] ?? process.env.HERALD_TXT_RECORDS;
        out = await inspect(input, recordsJson ? JSON.parse(recordsJson) : null);
    }
    process.stdout.write(JSON.stringify(out));
}

main().catch(err => {
    process.stderr.write(`${err.stack || err}\n`);
    process.exit(1);
});
