/**
 * A first-in, first-out queue of waiting requests: an array read from a moving head, so
 * taking the oldest is O(1) and nothing is allocated per request; the array is compacted
 * when it empties, or once the consumed head passes a thousand entries.
 */
const kCompactAfter = 1024;

export class JobQueue<J> {
  private items: J[] = [];
  private head = 0;

  get count(): number {
    return this.items.length - this.head;
  }

  push(item: J): void {
    this.items.push(item);
  }

  /** The oldest item; only while count > 0. */
  peek(): J {
    return this.items[this.head];
  }

  /** Takes the oldest item; only while count > 0. */
  shift(): J {
    return this.items[this.head++];
  }

  /** The i-th oldest item (0 is the oldest); only for i < count. */
  at(i: number): J {
    return this.items[this.head + i];
  }

  /** Puts `items` before everything waiting, in their order. */
  unshift(items: readonly J[]): void {
    this.items.splice(this.head, 0, ...items);
  }

  /** Drops the consumed head when the queue is empty or the head has grown long. */
  compact(): void {
    if (this.head === 0) return;
    if (this.head >= this.items.length) {
      this.items.length = 0;
      this.head = 0;
    } else if (this.head > kCompactAfter) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
