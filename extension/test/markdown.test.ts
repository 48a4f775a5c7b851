import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderMarkdown } from '../src/chat/markdown';

test('renders ordinary markdown', () => {
  const html = renderMarkdown('Some **bold** and `code`\n\n- a\n- b');
  assert.match(html, /<strong>bold<\/strong>/);
  assert.match(html, /<code>code<\/code>/);
  assert.match(html, /<li>a<\/li>/);
});

test('raw HTML from the agent is shown as text, never as markup', () => {
  const html = renderMarkdown('<script>alert(1)</script>\n\n<img src=x onerror="alert(2)"> and <b>bold</b>');
  assert.doesNotMatch(html, /<script|<img|<b>/i);
  assert.match(html, /&lt;script&gt;/);
  assert.match(html, /&lt;img src=x onerror=&quot;alert\(2\)&quot;&gt;/);
});

test('only http(s) and mailto links become links', () => {
  const html = renderMarkdown('[a](javascript:alert(1)) [b](data:text/html,hi) [c](vbscript:x) [d](https://example.com/x) [e](mailto:me@example.com)');
  assert.doesNotMatch(html, /href="(javascript|data|vbscript):/i);
  assert.match(html, /<a href="https:\/\/example.com\/x" rel="noopener noreferrer">d<\/a>/);
  assert.match(html, /href="mailto:me@example.com"/);
});

test('images become links (the webview loads nothing remote)', () => {
  const html = renderMarkdown('![logo](https://example.com/logo.png) ![x](javascript:alert(1))');
  assert.doesNotMatch(html, /<img/);
  assert.match(html, /<a href="https:\/\/example.com\/logo.png">logo<\/a>/);
});

test('fenced code gets a copy button and stays escaped', () => {
  const html = renderMarkdown('```js" onload="x\nif (a < b) console.log("</code>");\n```');
  assert.match(html, /<button class="copy" type="button" title="Copy">Copy<\/button>/);
  assert.match(html, /<code class="language-js">/);
  assert.doesNotMatch(html, / onload=/);
  assert.match(html, /if \(a &lt; b\) console.log\(&quot;&lt;\/code&gt;&quot;\);/);
});

test('attribute injection through link titles is escaped', () => {
  const html = renderMarkdown('[t](https://e.com "a\\" onmouseover=\\"x")');
  assert.doesNotMatch(html, /" onmouseover="/);
});
