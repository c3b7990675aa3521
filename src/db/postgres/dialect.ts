// What PostgreSQL says differently from SQLite, for code that writes the same rows to either engine.
/** A table or column name as both engines read it. */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * Inserts many rows in one statement with one parameter: a JSON array of row objects, whose keys are
 * matched to the table's columns by name (unknown keys are ignored) and whose values go through each
 * column type's text input. One parameter avoids the 65,535-parameter limit of a wide multi-row VALUES.
 */
export function insertJsonRowsSql(table: string, columns: readonly string[]): string {
  const list = columns.map(quoteIdentifier).join(", ");
  return `INSERT INTO ${quoteIdentifier(table)} (${list}) SELECT ${list} FROM json_populate_recordset(NULL::${quoteIdentifier(table)}, $1::json)`;
}

/** After rows were inserted with explicit ids, the next generated id follows the largest one. */
export function moveIdentityPastSql(table: string, column: string): string {
  const quotedTable = quoteIdentifier(table);
  return `SELECT setval(pg_get_serial_sequence('${quotedTable.replaceAll("'", "''")}', '${column.replaceAll("'", "''")}'), COALESCE(max(${quoteIdentifier(column)}), 0) + 1, false) FROM ${quotedTable}`;
}
