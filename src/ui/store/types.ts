/**
 * The minimal zustand surface a slice needs. Slices are written against their own state only, so
 * each can be created and tested alone (createStore<Slice>()(createXSlice)) and composed into the
 * studio store, whose setState accepts every slice's partial updates.
 */
export type SetSlice<S> = (partial: Partial<S> | ((state: S) => Partial<S>)) => void;
export type GetSlice<S> = () => S;
export type SliceCreator<S> = (set: SetSlice<S>, get: GetSlice<S>) => S;
