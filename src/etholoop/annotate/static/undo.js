// Multi-step undo/redo over snapshots of an editor's state.

const clone = (value) => structuredClone(value);

export class History {
  constructor(limit = 200) {
    this.limit = limit;
    this.reset(null);
  }

  /** Forget everything; `state` is the new starting point. */
  reset(state) {
    this.states = [clone(state)];
    this.index = 0;
  }

  /** Record `state` after an edit; drops the redo branch. */
  push(state) {
    this.states.splice(this.index + 1);
    this.states.push(clone(state));
    if (this.states.length > this.limit) this.states.shift();
    this.index = this.states.length - 1;
  }

  /** Put `state` in place of the current one without adding a step, e.g. when a
   * save gave new instances their ids: undo then never brings back the id-less copy. */
  replaceCurrent(state) {
    this.states[this.index] = clone(state);
  }

  undo() {
    if (this.index === 0) return null;
    this.index -= 1;
    return clone(this.states[this.index]);
  }

  redo() {
    if (this.index >= this.states.length - 1) return null;
    this.index += 1;
    return clone(this.states[this.index]);
  }
}
