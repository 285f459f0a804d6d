export async function run(): Promise<unknown> { throw new Error("engine bench not built yet"); }
