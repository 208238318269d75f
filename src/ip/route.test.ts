// Routing table: longest-prefix match, metrics, connected and default routes, local delivery,
// source address selection (RFC 6724 §5 simplified) and the generation counter.
import { describe, expect, test } from 'vitest';
import { IpAddr } from '../wire/ip-addr.js';
import { MacAddr } from '../wire/ethernet.js';
import type { Port } from '../link/link.js';
import { Interface, LOOPBACK_IFINDEX, parseCidr } from './interface.js';
import { RoutingTable, selectSource } from './route.js';

const ip = IpAddr.from;
const cidr = (t: string) => {
  const r = parseCidr(t);
  if (!r.ok) throw new Error(r.error);
  return r.value;
};
const port: Port = { medium: 'ethernet', mtu: 1500, send: () => {}, onFrame: undefined };

function table(): { t: RoutingTable; ifs: Map<number, Interface> } {
  const ifs = new Map<number, Interface>();
  ifs.set(LOOPBACK_IFINDEX, new Interface({
    ifindex: 1, name: 'lo', port: undefined, medium: 'ip', mtu: 65536, mac: undefined,
    ipv4: [cidr('127.0.0.1/8')], ipv6: [cidr('::1/128')], checksumOffload: true,
  }));
  ifs.set(2, new Interface({
    ifindex: 2, name: 'eth0', port, medium: 'ethernet', mtu: 1500, mac: MacAddr.from('02:00:00:00:00:01'),
    ipv4: [cidr('10.0.0.1/24'), cidr('10.1.0.1/16')], ipv6: [cidr('fe80::1/64'), cidr('2001:db8:1::1/64')], checksumOffload: false,
  }));
  ifs.set(3, new Interface({
    ifindex: 3, name: 'eth1', port: { ...port, mtu: 9000 }, medium: 'ethernet', mtu: 9000, mac: MacAddr.from('02:00:00:00:00:02'),
    ipv4: [cidr('192.168.5.7/24')], ipv6: [cidr('fe80::2/64'), cidr('2001:db8:2::7/64')], checksumOffload: false,
  }));
  const t = new RoutingTable(ifs);
  for (const [i, ifc] of ifs) if (i !== 1) for (const a of [...ifc.ipv4, ...ifc.ipv6]) t.addConnected(i, a);
  return { t, ifs };
}

describe('longest-prefix match', () => {
  const cases: [string, number | undefined, string | undefined][] = [
    // dst, expected ifindex, expected gateway
    ['10.0.0.9', 2, undefined],
    ['10.1.200.3', 2, undefined],
    ['192.168.5.200', 3, undefined],
    ['10.2.0.1', 3, '192.168.5.1'], // 10.0.0.0/8 static beats the default
    ['10.0.0.128', 2, '10.0.0.254'], // the /25 beats the connected /24
    ['8.8.8.8', 2, '10.0.0.254'], // default
    ['2001:db8:2::99', 3, undefined],
    ['2001:db8:3::1', 2, 'fe80::fe'],
    ['2001:db8:2:0:8000::1', 2, 'fe80::fe'], // a /65 static inside the connected /64
  ];
  test.each(cases)('%s -> ifindex %s via %s', (dst, ifindex, gw) => {
    const { t } = table();
    t.add({ prefix: ip('0.0.0.0'), prefixLen: 0, gateway: ip('10.0.0.254'), ifindex: 2, metric: 0, kind: 'static' });
    t.add({ prefix: ip('10.0.0.0'), prefixLen: 8, gateway: ip('192.168.5.1'), ifindex: 3, metric: 0, kind: 'static' });
    t.add({ prefix: ip('10.0.0.128'), prefixLen: 25, gateway: ip('10.0.0.254'), ifindex: 2, metric: 0, kind: 'static' });
    t.add({ prefix: ip('::'), prefixLen: 0, gateway: ip('fe80::fe'), ifindex: 2, metric: 1024, kind: 'static' });
    t.add({ prefix: ip('2001:db8:2:0:8000::'), prefixLen: 65, gateway: ip('fe80::fe'), ifindex: 2, metric: 1024, kind: 'static' });
    const e = t.lookup(ip(dst));
    expect(e?.ifindex).toBe(ifindex);
    expect(e?.gateway?.toString()).toBe(gw);
    const r = t.route(ip(dst))!;
    expect(r.nextHop.toString()).toBe(gw ?? dst);
  });

  test('no route: undefined (the caller reports ENETUNREACH)', () => {
    const { t } = table();
    expect(t.route(ip('8.8.8.8'))).toBeUndefined();
    expect(t.route(ip('2a00::1'))).toBeUndefined();
  });

  test('among equal prefixes the lower metric wins; removing it falls back', () => {
    const { t } = table();
    t.add({ prefix: ip('0.0.0.0'), prefixLen: 0, gateway: ip('192.168.5.1'), ifindex: 3, metric: 100, kind: 'static' });
    t.add({ prefix: ip('0.0.0.0'), prefixLen: 0, gateway: ip('10.0.0.254'), ifindex: 2, metric: 10, kind: 'static' });
    expect(t.route(ip('1.1.1.1'))!.nextHop.toString()).toBe('10.0.0.254');
    expect(t.remove(ip('0.0.0.0'), 0, ip('10.0.0.254'))).toBe(1);
    expect(t.route(ip('1.1.1.1'))!.nextHop.toString()).toBe('192.168.5.1');
  });

  test('host bits of a prefix are ignored (normalised on add)', () => {
    const { t } = table();
    t.add({ prefix: ip('172.16.9.9'), prefixLen: 12, gateway: ip('10.0.0.254'), ifindex: 2, metric: 0, kind: 'static' });
    expect(t.entries().find((e) => e.prefixLen === 12)?.prefix.toString()).toBe('172.16.0.0');
    expect(t.lookup(ip('172.31.255.255'))?.prefixLen).toBe(12);
    expect(t.lookup(ip('172.32.0.0'))).toBeUndefined();
  });

  test('a /32 and a /128 host route', () => {
    const { t } = table();
    t.add({ prefix: ip('203.0.113.5'), prefixLen: 32, gateway: undefined, ifindex: 3, metric: 0, kind: 'static' });
    t.add({ prefix: ip('2001:db8::5'), prefixLen: 128, gateway: undefined, ifindex: 3, metric: 0, kind: 'static' });
    expect(t.route(ip('203.0.113.5'))!.ifindex).toBe(3);
    expect(t.route(ip('203.0.113.6'))).toBeUndefined();
    expect(t.route(ip('2001:db8::5'))!.ifindex).toBe(3);
  });
});

describe('route()', () => {
  test('our own addresses and 127/8 route through loopback with the address itself as source', () => {
    const { t } = table();
    for (const [dst, src] of [['10.0.0.1', '10.0.0.1'], ['2001:db8:2::7', '2001:db8:2::7'], ['127.0.0.1', '127.0.0.1'], ['127.9.9.9', '127.0.0.1'], ['::1', '::1']]) {
      const r = t.route(ip(dst!))!;
      expect(r.ifindex).toBe(LOOPBACK_IFINDEX);
      expect(r.src.toString()).toBe(src);
      expect(r.mtu).toBe(65536);
      expect(r.checksumOffload).toBe(true);
      expect(r.linkHeaderLength).toBe(0);
    }
  });

  test('MTU and link header come from the outgoing interface', () => {
    const { t } = table();
    expect(t.route(ip('192.168.5.1'))).toMatchObject({ mtu: 9000, linkHeaderLength: 14, checksumOffload: false, family: 4 });
  });

  test('source: an address of the outgoing interface, longest matching prefix; the hint wins when it is ours', () => {
    const { t } = table();
    expect(t.route(ip('10.1.9.9'))!.src.toString()).toBe('10.1.0.1');
    expect(t.route(ip('10.0.0.9'))!.src.toString()).toBe('10.0.0.1');
    expect(t.route(ip('10.0.0.9'), ip('10.1.0.1'))!.src.toString()).toBe('10.1.0.1');
    // A hint that is not ours is ignored; weak host model: another interface's address is allowed.
    expect(t.route(ip('10.0.0.9'), ip('10.0.0.77'))!.src.toString()).toBe('10.0.0.1');
    expect(t.route(ip('10.0.0.9'), ip('192.168.5.7'))!.src.toString()).toBe('192.168.5.7');
  });

  test('IPv6 source: global for global destinations, link-local for link-local ones (RFC 6724 rule 2)', () => {
    const { t } = table();
    t.add({ prefix: ip('::'), prefixLen: 0, gateway: ip('fe80::fe'), ifindex: 2, metric: 1024, kind: 'static' });
    expect(t.route(ip('2a00::1'))!.src.toString()).toBe('2001:db8:1::1');
    expect(t.route(ip('fe80::99'))!.src.toString()).toBe('fe80::1');
    // fe80::/64 exists on both interfaces: a link-local source hint picks its interface.
    expect(t.route(ip('fe80::99'), ip('fe80::2'))!.ifindex).toBe(3);
  });

  test('the limited broadcast leaves through the first interface with IPv4', () => {
    const { t } = table();
    expect(t.route(ip('255.255.255.255'))).toMatchObject({ ifindex: 2 });
    expect(t.route(ip('255.255.255.255'), ip('192.168.5.7'))).toMatchObject({ ifindex: 3 });
  });

  test('every change bumps the generation; a cached route carries the generation it was made at', () => {
    const { t } = table();
    const r = t.route(ip('10.0.0.9'))!;
    expect(r.generation).toBe(t.generation);
    t.add({ prefix: ip('0.0.0.0'), prefixLen: 0, gateway: ip('10.0.0.254'), ifindex: 2, metric: 0, kind: 'static' });
    expect(t.generation).toBeGreaterThan(r.generation);
    const g = t.generation;
    t.remove(ip('1.2.3.0'), 24);
    expect(t.generation).toBe(g); // removing nothing changes nothing
    t.bump();
    expect(t.generation).toBe(g + 1);
  });
});

describe('selectSource (RFC 6724 §5)', () => {
  test('rule 1: the destination itself; rule 8: longest common prefix', () => {
    const c = [cidr('2001:db8:1::1/64'), cidr('2001:db8:2::1/64')];
    expect(selectSource(ip('2001:db8:2::1'), c)!.toString()).toBe('2001:db8:2::1');
    expect(selectSource(ip('2001:db8:2::9'), c)!.toString()).toBe('2001:db8:2::1');
    expect(selectSource(ip('2001:db8:1::9'), c)!.toString()).toBe('2001:db8:1::1');
  });
  test('rule 2: never a link-local source for a global destination when a global one exists', () => {
    expect(selectSource(ip('2a00::1'), [cidr('fe80::1/64'), cidr('2001:db8::1/64')])!.toString()).toBe('2001:db8::1');
    expect(selectSource(ip('2a00::1'), [cidr('2001:db8::1/64'), cidr('fe80::1/64')])!.toString()).toBe('2001:db8::1');
    expect(selectSource(ip('fe80::5'), [cidr('2001:db8::1/64'), cidr('fe80::1/64')])!.toString()).toBe('fe80::1');
  });
  test('no candidate of the family: undefined', () => {
    expect(selectSource(ip('10.0.0.1'), [cidr('2001:db8::1/64')])).toBeUndefined();
  });
});
