/**
 * r.args reads one argument without parsing the whole query string: the answer must be what
 * querystring.parse() (the whole-object path, and what r.args gave before) gives for the key.
 */
import assert from 'node:assert/strict';
import { parse } from 'node:querystring';
import { describe, it } from 'node:test';

import { argValue } from '../src/runtime/http/args';

const queries = [
    '', 'a=1', 'a=1&b=2', 'a=1&a=2&a=3', 'a', 'a=', '=x', '&&a=1&&', 'a=1&b', 'a+b=c+d', 'a%20b=%41%42',
    'x=%E2%82%AC', 'bad=%zz', 'a=1=2', 'k=v&K=V', 'a[]=1&a[]=2', 'long=' + 'y'.repeat(500), '%61=decoded-key&a=plain',
    'hasOwnProperty=1', 'a=%', '+=plus',
];

describe('r.args, one key at a time', () => {
    it('gives what querystring.parse gives, for every key of every query', () => {
        for (const query of queries) {
            const whole = parse(query);
            const keys = new Set([...Object.keys(whole), 'a', 'b', 'missing', 'a b', '']);
            for (const key of keys) {
                assert.deepEqual(argValue(query, key), whole[key], `${JSON.stringify(query)}[${JSON.stringify(key)}]`);
            }
        }
    });

    it('gives what querystring.parse gives for random queries of the characters that matter', () => {
        const alphabet = 'ab=&%+2A ';
        let seed = 7;
        const next = (n: number): number => {
            seed = (seed * 1103515245 + 12345) % 2147483648;
            return seed % n;
        };
        for (let round = 0; round < 3000; round++) {
            let query = '';
            for (let i = next(12); i > 0; i--) query += alphabet[next(alphabet.length)];
            const whole = parse(query);
            for (const key of new Set([...Object.keys(whole), 'a', 'b', 'a b', ''])) {
                assert.deepEqual(argValue(query, key), whole[key], `${JSON.stringify(query)}[${JSON.stringify(key)}]`);
            }
        }
    });
});
