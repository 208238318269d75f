// The tour of TCP (what `npm start` runs): the seeds' story as a series of scenarios run in the
// simulator, each with a short explanation and its sequence diagram. Chapters whose mechanism
// has not landed yet are listed as "not yet implemented", never faked.
import type { ScenarioResult } from '../sim/scenarios/basic.js';
import { handshake } from '../sim/scenarios/basic.js';

/** One chapter of the tour. */
export interface Chapter {
  id: string;
  title: string;
  /** One paragraph: what to look for in the diagram. */
  text: string;
  /** Runs the scenario; undefined while the mechanism is not implemented. */
  run: (() => ScenarioResult) | undefined;
}

/** The chapters, in the order the story is told. */
export const CHAPTERS: Chapter[] = [
  {
    id: 'handshake',
    title: 'The three-way handshake, a request, and the four-way close',
    text:
      'The client sends SYN with its options (MSS, SACK permitted, timestamps, window scale); the server ' +
      'answers SYN+ACK with its own; the client ACKs and both are ESTABLISHED. After one request and one ' +
      'response the client closes first: FIN, ACK, FIN, ACK. The side that closes first holds TIME-WAIT.',
    run: () => handshake(),
  },
];
