/** A screen: its element is built once; load() fetches its data and fills the element in place. */
export interface View {
  title: string;
  element: HTMLElement;
  load(): Promise<void>;
}

/** What a view gets from the shell. */
export interface ViewContext {
  /** Reload the current view now (after an action); polling calls the same, one load at a time. */
  refresh(): void;
}
