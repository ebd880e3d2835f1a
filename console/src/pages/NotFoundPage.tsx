export function NotFoundPage() {
  return (
    <>
      <h1 tabIndex={-1}>Page not found</h1>
      <p>There is no such page in the console. Choose a section above.</p>
    </>
  );
}
