/** A section of the console whose pages are still to come. */
export function NotBuiltYetPage({ title }: { title: string }) {
  return (
    <>
      <h1 tabIndex={-1}>{title}</h1>
      <p>This part of the console is not built yet.</p>
    </>
  );
}
