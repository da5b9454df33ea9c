// Qdrant's filter language as TypeScript types (docs/filters.md has the semantics). The engine parses and checks
// every filter itself; these types let `tsc` catch a misspelt clause, condition or match before it runs: a field
// condition takes exactly one predicate, and unknown fields are excess properties.

/** A point id: an unsigned integer (bigint above 2^53 - 1) or a UUID string. */
export type PointId = number | string | bigint;

/** `{ value }`: equals (strings byte for byte, integers as integers, booleans). */
export interface MatchValue {
  value: string | number | bigint | boolean;
}
/** `{ any }`: equals one of the list (all strings or all integers). */
export interface MatchAny {
  any: string[] | number[];
}
/** `{ except }`: is not in the list. */
export interface MatchExcept {
  except: string[] | number[];
}
/** `{ text }`: contains every word token of the text. */
export interface MatchText {
  text: string;
}
/** `{ text_any }`: contains at least one word token of the text. */
export interface MatchTextAny {
  text_any: string;
}
/** `{ phrase }`: contains the text's tokens consecutively, in order. */
export interface MatchPhrase {
  phrase: string;
}
export type Match = MatchValue | MatchAny | MatchExcept | MatchText | MatchTextAny | MatchPhrase;

/** Number bounds; `null` means absent. */
export interface Range {
  gt?: number | null;
  gte?: number | null;
  lt?: number | null;
  lte?: number | null;
}
/** Datetime bounds: RFC 3339 text (`2023-02-08T10:49:00Z`, or a date alone) or a Date. */
export interface DatetimeRange {
  gt?: string | Date | null;
  gte?: string | Date | null;
  lt?: string | Date | null;
  lte?: string | Date | null;
}
/** Bounds on the number of values at a key (non-negative integers). */
export interface ValuesCount {
  gt?: number | null;
  gte?: number | null;
  lt?: number | null;
  lte?: number | null;
}

export interface GeoPoint {
  lon: number;
  lat: number;
}
/** Strictly inside the box; `top_left.lon > bottom_right.lon` crosses the antimeridian. */
export interface GeoBoundingBox {
  top_left: GeoPoint;
  bottom_right: GeoPoint;
}
/** Closer than `radius` meters to `center` (haversine). */
export interface GeoRadius {
  center: GeoPoint;
  radius: number;
}
/** A closed ring: at least 4 points, the first equal to the last. */
export interface GeoLineString {
  points: GeoPoint[];
}
export interface GeoPolygon {
  exterior: GeoLineString;
  interiors?: GeoLineString[] | null;
}

// One predicate per field condition: the others are `never`, so a second one (or a misspelt one) fails to compile.
interface Predicates {
  match: Match;
  range: Range | DatetimeRange;
  geo_bounding_box: GeoBoundingBox;
  geo_radius: GeoRadius;
  geo_polygon: GeoPolygon;
  values_count: ValuesCount;
  /** `true`: the key is missing, or every value is null or `[]`. */
  is_empty: boolean;
  /** `true`: some value is null. */
  is_null: boolean;
}
type OnePredicate<K extends keyof Predicates> = { key: string } & { [P in K]: Predicates[P] } & {
  [P in Exclude<keyof Predicates, K>]?: never;
};

/** `{ key, <one predicate> }`: a condition on the payload values at `key` (a JSON path such as `a.b[].c`). */
export type FieldCondition = { [K in keyof Predicates]: OnePredicate<K> }[keyof Predicates];

export interface IsEmptyCondition {
  is_empty: { key: string };
}
export interface IsNullCondition {
  is_null: { key: string };
}
export interface HasIdCondition {
  has_id: PointId[];
}
/** One element of the array at `key` satisfies the whole inner filter (keys relative to the element). */
export interface NestedCondition {
  nested: { key: string; filter: Filter };
}

export type Condition = FieldCondition | IsEmptyCondition | IsNullCondition | HasIdCondition | NestedCondition | Filter;

export interface MinShould {
  conditions: Condition[];
  min_count: number;
}

/**
 * Qdrant's filter: every `must` condition holds, at least one `should`, no `must_not`, and at least `min_count` of
 * `min_should`. A clause takes a list or a single condition; `{}` matches every point.
 */
export interface Filter {
  must?: Condition | Condition[] | null;
  should?: Condition | Condition[] | null;
  must_not?: Condition | Condition[] | null;
  min_should?: MinShould | null;
}
