import { checkItem } from './item-input.js';
import { ItemStore, ReviewStore } from './store.js';
import type { ReviewRecord, TrackingBackend, TrackingItem, TrackingItemInput } from './types.js';

/** The track commands on the local state dir (the items and reviews stores under <state>/tracking/). */
export function localBackend(stateDir: string): TrackingBackend {
  const items = new ItemStore(stateDir);
  const reviews = new ReviewStore(stateDir);
  return {
    list: (filter) => Promise.resolve(items.list(filter)),
    add(input: TrackingItemInput): Promise<TrackingItem> {
      const item = checkItem(input, 'the tracking item');
      return items.put({ ...item, enabled: item.enabled ?? true });
    },
    remove: (key) => items.remove(key),
    setEnabled: (key, enabled) =>
      items.modify(key, (item) => {
        item.enabled = enabled;
      }),
    reviews: (): Promise<ReviewRecord[]> => Promise.resolve(reviews.list().sort((a, b) => a.createdAt.localeCompare(b.createdAt))),
  };
}
