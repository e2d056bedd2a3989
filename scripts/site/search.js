// The course's search: every section of every page (search_index.js, written by
// render_course.py) matched against the words typed, in the browser, with no server.
(function () {
  const input = document.getElementById('course-search-input');
  const results = document.getElementById('course-search-results');
  if (!input || !results || !window.COURSE_SEARCH) {
    return;
  }
  function snippet(text, word) {
    const at = text.toLowerCase().indexOf(word);
    const start = Math.max(0, at - 60);
    return (start > 0 ? '… ' : '') + text.slice(start, start + 160) + (text.length > start + 160 ? ' …' : '');
  }
  function show() {
    const words = input.value.toLowerCase().split(/\s+/).filter((word) => word.length > 1);
    results.replaceChildren();
    if (!words.length) {
      return;
    }
    const found = [];
    for (const entry of window.COURSE_SEARCH) {
      const section = entry.section.toLowerCase();
      const all = (entry.title + ' ' + section + ' ' + entry.text).toLowerCase();
      if (words.every((word) => all.includes(word))) {
        const score = words.reduce((sum, word) => sum + (section.includes(word) ? 5 : 0)
          + (entry.title.toLowerCase().includes(word) ? 2 : 0), 0);
        found.push([score, entry]);
      }
    }
    found.sort((a, b) => b[0] - a[0]);
    for (const [, entry] of found.slice(0, 12)) {
      const item = document.createElement('li');
      const link = document.createElement('a');
      link.href = entry.page + (entry.anchor ? '#' + entry.anchor : '');
      link.textContent = entry.section;
      const where = document.createElement('small');
      where.textContent = entry.title;
      link.append(where);
      const text = document.createElement('p');
      text.textContent = snippet(entry.text, words[0]);
      item.append(link, text);
      results.append(item);
    }
    if (!found.length) {
      const item = document.createElement('li');
      item.textContent = 'No section mentions every one of these words.';
      results.append(item);
    }
  }
  input.addEventListener('input', show);
})();
