// Agent answers as markdown, safely: markdown-it with raw HTML off (every tag the agent writes is
// shown as text), links only to http(s)/mailto, images shown as links (the webview's CSP would block
// them anyway), and fenced code in a block with a copy button.
import MarkdownIt from 'markdown-it';

const allowedLink = /^(https?:|mailto:)/i;

function create(): MarkdownIt {
  const md = new MarkdownIt({ html: false, linkify: true, breaks: false, typographer: false });
  md.validateLink = (url: string) => allowedLink.test(url.trim());
  const escape = md.utils.escapeHtml;
  md.renderer.rules.fence = (tokens, idx) => {
    const token = tokens[idx];
    const lang = token.info.trim().split(/\s+/)[0] ?? '';
    const langClass = lang ? ` class="language-${escape(lang.replace(/[^\w-]/g, ''))}"` : '';
    return `<div class="code-block"><div class="code-toolbar"><span class="code-lang">${escape(lang)}</span><button class="copy" type="button" title="Copy">Copy</button></div><pre><code${langClass}>${escape(token.content)}</code></pre></div>\n`;
  };
  md.renderer.rules.code_block = md.renderer.rules.fence;
  md.renderer.rules.image = (tokens, idx) => {
    const token = tokens[idx];
    const src = token.attrGet('src') ?? '';
    const alt = token.content || src;
    return allowedLink.test(src) ? `<a href="${escape(src)}">${escape(alt)}</a>` : escape(alt);
  };
  const defaultLinkOpen = md.renderer.rules.link_open ?? ((tokens, idx, options, _env, self) => self.renderToken(tokens, idx, options));
  md.renderer.rules.link_open = (tokens, idx, options, env, self) => {
    tokens[idx].attrSet('rel', 'noopener noreferrer');
    return defaultLinkOpen(tokens, idx, options, env, self);
  };
  return md;
}

let instance: MarkdownIt | undefined;

export function renderMarkdown(text: string): string {
  instance ??= create();
  return instance.render(text);
}
