// The small DuckDB warehouse the job tests run the real detection on (AS_OF 2026-02-14T12:00:00).
import { caregiver, provider, uid, writeWarehouse } from '../detection/warehouse.js';

/**
 * Two caregivers, three agencies: an overlap of completed visits yesterday (rule 5) and an
 * identical schedule in two days (rule 1), both directions each; a visit of one agency alone.
 * Every visit changed in the lookback: three affected groups (SSN, VisitDate), four conflict rows.
 */
export function writeSmallWarehouse(dir: string): Promise<string> {
  const [cg1, cg2] = [uid('c', 1), uid('c', 2)];
  const [pa, pb, pc] = [uid('a', 1), uid('a', 2), uid('a', 3)];
  return writeWarehouse(dir, {
    caregivers: [caregiver(cg1, ' 111-22-3333 '), caregiver(cg2, '444-55-6666')],
    providers: [provider(pa), provider(pb), provider(pc)],
    visits: [
      { id: uid('v', 1), caregiver: cg1, provider: pa, date: '2026-02-13', sch: ['09:00', '11:00'], visit: ['09:00', '11:00'] },
      { id: uid('v', 2), caregiver: cg1, provider: pb, date: '2026-02-13', sch: ['10:00', '12:00'], visit: ['10:00', '12:00'] },
      { id: uid('v', 3), caregiver: cg2, provider: pa, date: '2026-02-16', sch: ['08:00', '09:00'] },
      { id: uid('v', 4), caregiver: cg2, provider: pc, date: '2026-02-16', sch: ['08:00', '09:00'] },
      { id: uid('v', 5), caregiver: cg2, provider: pc, date: '2026-02-17', sch: ['08:00', '09:00'] },
    ],
  });
}
