import type { CardFile } from './model.js';

/**
 * Changes to backup, value and record files wait here until CommitTransaction. Reads see the
 * committed files, not these copies; AbortTransaction, loss of authentication, selecting another
 * application and power loss all simply drop them (this is volatile memory).
 */
export class Transaction {
  readonly #staged = new Map<number, CardFile>();

  /** The working copy of `file` in this transaction, made on first use. */
  stage<F extends CardFile>(file: F): F {
    let copy = this.#staged.get(file.fileNo) as F | undefined;
    if (!copy) {
      copy = structuredClone(file);
      this.#staged.set(file.fileNo, copy);
    }
    return copy;
  }

  /** The working copy when the file is already part of the transaction. */
  staged<F extends CardFile>(file: F): F | undefined {
    return this.#staged.get(file.fileNo) as F | undefined;
  }

  get isEmpty(): boolean {
    return this.#staged.size === 0;
  }

  /** Staged copies, to be written over the committed files in one persistent write. */
  copies(): CardFile[] {
    return [...this.#staged.values()];
  }

  clear(): void {
    this.#staged.clear();
  }
}
