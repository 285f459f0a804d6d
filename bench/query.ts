export async function run(): Promise<unknown> { throw new Error("query bench not built yet"); }
