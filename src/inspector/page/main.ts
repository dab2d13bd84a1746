/// <reference lib="dom" />
// The inspector page: follows the feed and shows the overview or one actor (#/actor/<sessionId>).
import { h, render, type ComponentChild } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ActorPage } from './actor-view.js';
import { connect, emptyModel } from './model.js';
import { Overview } from './overview.js';

const model = emptyModel();

function App(): ComponentChild {
  const [, setVersion] = useState(0);
  const [route, setRoute] = useState(location.hash);
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const source = connect(model, () => setVersion(model.version));
    const onHash = () => setRoute(location.hash);
    window.addEventListener('hashchange', onHash);
    const tick = setInterval(() => setNow(Date.now()), 250);
    return () => {
      source.close();
      window.removeEventListener('hashchange', onHash);
      clearInterval(tick);
    };
  }, []);
  const actor = route.startsWith('#/actor/') ? decodeURIComponent(route.slice('#/actor/'.length)) : null;
  return h(
    'div',
    null,
    h(
      'header',
      null,
      h('b', null, 'plugd inspector'),
      h('a', { href: '#/' }, 'plugins'),
      h('span', { class: model.connected ? '' : 'status-bad', 'data-testid': 'status' }, model.status),
    ),
    h('main', null, actor === null ? h(Overview, { model, now }) : h(ActorPage, { model, sessionId: actor, now })),
  );
}

render(h(App, null), document.getElementById('app')!);
