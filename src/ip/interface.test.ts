// Interface addressing helpers: EUI-64 link-local addresses, solicited-node groups, CIDR parsing,
// broadcast detection.
import { describe, expect, test } from 'vitest';
import { IpAddr } from '../wire/ip-addr.js';
import { MacAddr } from '../wire/ethernet.js';
import { SimRng } from '../sim/rng.js';
import { commonPrefixLength, Interface, linkLocalFromMac, multicastMac4, networkOf, parseCidr, randomLocalMac, solicitedNode } from './interface.js';

describe('RFC 4291', () => {
  test('Appendix A: the modified EUI-64 of 34:56:78:9a:bc:de is 3656:78ff:fe9a:bcde', () => {
    expect(linkLocalFromMac(MacAddr.from('34:56:78:9a:bc:de')).toString()).toBe('fe80::3656:78ff:fe9a:bcde');
    expect(linkLocalFromMac(MacAddr.from('02:00:00:00:00:01')).toString()).toBe('fe80::ff:fe00:1');
  });
  test('§2.7.1: the solicited-node group of 4037::01:800:200e:8c6c is ff02::1:ff0e:8c6c', () => {
    expect(solicitedNode(IpAddr.from('4037::01:800:200e:8c6c')).toString()).toBe('ff02::1:ff0e:8c6c');
  });
});

test('RFC 1112 §6.4: 224.1.2.3 maps to 01:00:5e:01:02:03, dropping the 24th bit', () => {
  expect(multicastMac4(IpAddr.from('224.129.2.3').v4).toString()).toBe('01:00:5e:01:02:03');
});

test('random MACs are unicast and locally administered', () => {
  const rng = new SimRng(9);
  for (let i = 0; i < 100; i++) {
    const m = randomLocalMac(rng);
    expect(m.isMulticast).toBe(false);
    expect((m.hi >>> 8) & 0x02).toBe(0x02);
  }
});

describe('parseCidr', () => {
  test.each([
    ['10.0.0.1/24', '10.0.0.1', 24],
    ['10.0.0.1', '10.0.0.1', 32],
    ['2001:db8::1/64', '2001:db8::1', 64],
    ['::1', '::1', 128],
    ['0.0.0.0/0', '0.0.0.0', 0],
  ])('%s', (text, addr, len) => {
    const r = parseCidr(text);
    expect(r.ok && [r.value.addr.toString(), r.value.prefixLen]).toEqual([addr, len]);
  });
  test.each(['10.0.0.1/33', '10.0.0.1/-1', '10.0.0.1/', '2001:db8::/129', 'x/8', '10.0.0.1/8/8', '10.0.0.1/ 8'])('rejects %s', (text) => {
    expect(parseCidr(text).ok).toBe(false);
  });
});

test('networkOf and commonPrefixLength', () => {
  expect(networkOf(IpAddr.from('10.1.2.3'), 12).toString()).toBe('10.0.0.0');
  expect(networkOf(IpAddr.from('2001:db8:ffff::1'), 36).toString()).toBe('2001:db8:f000::');
  expect(networkOf(IpAddr.from('10.1.2.3'), 0).toString()).toBe('0.0.0.0');
  expect(commonPrefixLength(IpAddr.from('10.0.0.1'), IpAddr.from('10.0.0.3'))).toBe(30);
  expect(commonPrefixLength(IpAddr.from('2001:db8::1'), IpAddr.from('2001:db8::1'))).toBe(128);
  expect(commonPrefixLength(IpAddr.from('10.0.0.1'), IpAddr.from('::1'))).toBe(0);
});

test('broadcast addresses: limited and directed, none for /31 and /32 (RFC 3021)', () => {
  const ifc = new Interface({
    ifindex: 2, name: 'eth0', port: undefined, medium: 'ethernet', mtu: 1500, mac: MacAddr.from('02:00:00:00:00:01'),
    ipv4: [{ addr: IpAddr.from('10.0.0.1'), prefixLen: 24 }, { addr: IpAddr.from('192.0.2.0'), prefixLen: 31 }], ipv6: [], checksumOffload: false,
  });
  expect(ifc.isBroadcast4(0xffffffff)).toBe(true);
  expect(ifc.isBroadcast4(IpAddr.from('10.0.0.255').v4)).toBe(true);
  expect(ifc.isBroadcast4(IpAddr.from('10.0.0.254').v4)).toBe(false);
  expect(ifc.isBroadcast4(IpAddr.from('192.0.2.1').v4)).toBe(false);
  expect(ifc.groups6).toHaveLength(0);
  ifc.addAddress({ addr: IpAddr.from('2001:db8::5'), prefixLen: 64 });
  expect(ifc.groups6.map(String)).toEqual(['ff02::1', 'ff02::1:ff00:5']);
});
