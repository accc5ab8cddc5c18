/** The filter controls list pages share: a select with "any", a text field, a UTC time range. */

export function SelectFilter(props: {
  label: string;
  name: string;
  options: ReadonlyArray<readonly [value: string, text: string]>;
  selected: string | undefined;
}) {
  return (
    <label>
      {props.label}
      <select name={props.name}>
        <option value="">any</option>
        {props.options.map(([value, text]) => (
          <option value={value} selected={value === props.selected}>
            {text}
          </option>
        ))}
      </select>
    </label>
  );
}

export function TextFilter(props: { label: string; name: string; value: string | undefined }) {
  return (
    <label>
      {props.label}
      <input name={props.name} value={props.value ?? ""} size={22} />
    </label>
  );
}

/** `since` and `until` as datetime-local inputs, read as UTC (format.ts fromLocalInput). */
export function TimeRange(props: { since: string | undefined; until: string | undefined; what?: string }) {
  return (
    <>
      <label>
        {props.what ?? "From"} (UTC)
        <input type="datetime-local" name="since" value={props.since ?? ""} />
      </label>
      <label>
        to (UTC)
        <input type="datetime-local" name="until" value={props.until ?? ""} />
      </label>
    </>
  );
}

export function FilterButtons(props: { clear: string }) {
  return (
    <>
      <button type="submit">Filter</button>
      <a href={props.clear}>Clear</a>
    </>
  );
}
