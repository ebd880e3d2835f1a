interface Props {
  caption: string;
  columns: readonly string[];
  /** One row a period: its label first, then one cell a column after the first. */
  rows: readonly (readonly string[])[];
}

/** A chart's figures as a table: the chart's text alternative, shown on demand. */
export function FiguresTable({ caption, columns, rows }: Props) {
  return (
    <details className="figures">
      <summary>Show the figures as a table</summary>
      <table>
        <caption>{caption}</caption>
        <thead>
          <tr>
            {columns.map((column) => (
              <th key={column} scope="col">
                {column}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map(([period = "", ...cells]) => (
            <tr key={period}>
              <th scope="row">{period}</th>
              {cells.map((cell, index) => (
                <td key={columns[index + 1] ?? index}>{cell}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  );
}
