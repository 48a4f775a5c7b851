// Texts kept for virtual documents (the two sides of an edit's diff), by id, the newest kept: the
// diff editor asks for a document's text when it opens it and again when it reloads it.
export class TextStore {
  private readonly texts = new Map<string, string>();
  private counter = 0;

  constructor(private readonly capacity: number) {}

  /** Keeps `text`; returns its id. The oldest text goes when there are more than `capacity`. */
  add(text: string): string {
    const id = String(++this.counter);
    this.texts.set(id, text);
    for (const oldest of this.texts.keys()) {
      if (this.texts.size <= this.capacity) break;
      this.texts.delete(oldest);
    }
    return id;
  }

  get(id: string): string | undefined {
    return this.texts.get(id);
  }
}
